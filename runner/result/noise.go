package result

// HostNoise is what the host did besides the run, read from /proc at the start
// and at the end of the run: how much the machine could be trusted to measure.
type HostNoise struct {
	// LoadStart and LoadEnd are the 1-minute load averages.
	LoadStart float64 `json:"load_start"`
	LoadEnd   float64 `json:"load_end"`
	// BusyPct is the share of all CPUs' time spent busy during the run, 0..100.
	BusyPct float64 `json:"busy_pct"`
	// StealPct is the share of CPU time the hypervisor gave to other guests, 0..100.
	StealPct float64 `json:"steal_pct"`
	// Warnings say why the numbers of this run may not be reliable.
	Warnings []string `json:"warnings,omitempty"`
}
