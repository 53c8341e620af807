package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/infergrid/runner/runner/result"
)

// block is one grid block of a run: its configurations (table rows) and load
// levels (table columns) in order of first appearance in the plan.
type block struct {
	Name    string
	Configs []config
	Levels  []level
	// Cells maps a configuration and a level label to the scenarios measured there.
	Cells map[config]map[string][]*Scenario
	// NotRun maps a configuration and level label to planned scenarios without an outcome.
	NotRun map[config]map[string][]string
}

// blocks groups a run's scenarios by grid block, in plan order; configurations
// keep plan order, load levels go from light to heavy.
func blocks(d *Data) []*block {
	var out []*block
	byName := map[string]*block{}
	get := func(name string) *block {
		b, ok := byName[name]
		if !ok {
			b = &block{Name: name, Cells: map[config]map[string][]*Scenario{}, NotRun: map[config]map[string][]string{}}
			byName[name] = b
			out = append(out, b)
		}
		return b
	}
	place := func(b *block, c config, lv level) {
		if !slices.Contains(b.Configs, c) {
			b.Configs = append(b.Configs, c)
		}
		if !slices.ContainsFunc(b.Levels, func(l level) bool { return l.Label == lv.Label }) {
			b.Levels = append(b.Levels, lv)
		}
	}
	outcome := map[string]*Scenario{}
	for i := range d.Scenarios {
		outcome[d.Scenarios[i].Outcome.Scenario.ID] = &d.Scenarios[i]
	}
	missing := map[string]bool{}
	for _, m := range d.Missing {
		missing[m.ID] = true
	}
	visit := func(s result.Scenario) {
		if sc, ok := outcome[s.ID]; ok {
			o := sc.Outcome
			b, c, lv := get(o.Scenario.Block), configOf(o.Scenario), loadLevel(o.Scenario, o.Load)
			place(b, c, lv)
			if b.Cells[c] == nil {
				b.Cells[c] = map[string][]*Scenario{}
			}
			b.Cells[c][lv.Label] = append(b.Cells[c][lv.Label], sc)
			delete(outcome, s.ID)
			return
		}
		if missing[s.ID] && s.Replicas > 0 {
			b, c, lv := get(s.Block), configOf(s), loadLevel(s, result.Load{})
			place(b, c, lv)
			if b.NotRun[c] == nil {
				b.NotRun[c] = map[string][]string{}
			}
			b.NotRun[c][lv.Label] = append(b.NotRun[c][lv.Label], s.ID)
			delete(missing, s.ID)
		}
	}
	for _, s := range d.Plan {
		visit(s)
	}
	for _, sc := range d.Scenarios {
		visit(sc.Outcome.Scenario)
	}
	// Columns from light to heavy load, closed model first; ties keep plan order.
	for _, b := range out {
		slices.SortStableFunc(b.Levels, func(x, y level) int {
			return cmp.Or(cmp.Compare(modelRank(x.Model), modelRank(y.Model)), strings.Compare(x.Model, y.Model), cmp.Compare(x.Value, y.Value))
		})
	}
	return out
}

// Markdown renders report.md. plots holds the slash-separated paths, relative to
// the run directory, of the plots that exist; only those are linked.
func Markdown(w io.Writer, d *Data, findings []Finding, plots map[string]bool) error {
	var b bytes.Buffer
	r := d.Run
	fmt.Fprintf(&b, "# Load-test report: %s\n\n", cmp.Or(r.Name, r.ID, path.Base(d.Dir)))
	writeMeta(&b, d)

	b.WriteString("## Findings\n\n")
	writeFindings(&b, findings)
	if len(findings) == 0 {
		b.WriteString("No scenario has results to draw findings from.\n\n")
	}

	writeFlags(&b, d)

	if hasCapacity(d) {
		b.WriteString("## Capacity at SLO\n\n")
		b.WriteString("Each capacity search ran constant-rate steps, doubling from the lowest rate while the SLO was met, then bisecting; the capacity is the highest rate whose step met the SLO with the load generator keeping up (≥: a lower bound, <: below the range). Per CPU and per GiB divide it by the limits of all replicas (– when unlimited). The other tables show each search's highest passing step.\n\n")
		if err := capacityTable(&b, d); err != nil {
			return err
		}
		b.WriteString("\n")
	}

	for _, bl := range blocks(d) {
		name := cmp.Or(bl.Name, "(no block)")
		fmt.Fprintf(&b, "## Block `%s`\n\n", name)
		writeBlockIntro(&b, bl, r.SLO != nil)
		if err := blockTable(&b, bl); err != nil {
			return err
		}
		if p := blockPlotPath(bl.Name); plots[p] {
			fmt.Fprintf(&b, "\n![p99 latency vs load, block %s](%s)\n", name, link(p))
		}
		if p := blockTTFTPlotPath(bl.Name); plots[p] {
			fmt.Fprintf(&b, "\n![time to first token vs load, block %s](%s)\n", name, link(p))
		}
		b.WriteString("\n")
	}

	if len(d.Scenarios) > 0 {
		b.WriteString("## Resources\n\n")
		b.WriteString("Peak memory is the highest of any one replica against the limit per replica; mean CPU is the sum over replicas (100% = one CPU) against the sum of their limits.\n\n")
		if err := resourcesTable(&b, d); err != nil {
			return err
		}
		if err := servicesTable(&b, d); err != nil {
			return err
		}
		b.WriteString("\n")
		if err := writeNoise(&b, d); err != nil {
			return err
		}
		b.WriteString("## Scenarios\n\n")
		for i := range d.Scenarios {
			writeScenario(&b, &d.Scenarios[i], plots)
		}
	}

	if len(d.Problems) > 0 {
		b.WriteString("## Problems reading the run directory\n\n")
		for _, p := range d.Problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
		b.WriteString("\n")
	}
	_, err := w.Write(bytes.TrimRight(b.Bytes(), "\n"))
	if err == nil {
		_, err = io.WriteString(w, "\n")
	}
	return err
}

// writeFindings writes the findings grouped by rule, each group under its
// heading, in a fixed order of rules.
func writeFindings(b *bytes.Buffer, findings []Finding) {
	rules := []struct{ rule, title string }{
		{RuleBestConfig, "Best configuration"}, {RuleFailures, "Failures"},
		{RuleImbalance, "Balancing"}, {RuleReplicas, "Replicas"}, {RuleCapacity, "Capacity at SLO"}, {RuleProxy, "Proxy overhead"},
	}
	rules = append(rules, llmRuleTitles...)
	// Rules this list does not know yet still get their findings shown.
	for _, f := range findings {
		if !slices.ContainsFunc(rules, func(r struct{ rule, title string }) bool { return r.rule == f.Rule }) {
			rules = append(rules, struct{ rule, title string }{f.Rule, f.Rule})
		}
	}
	for _, rule := range rules {
		var items []string
		for _, f := range findings {
			if f.Rule == rule.rule {
				items = append(items, "- "+f.Text+"\n")
			}
		}
		if len(items) > 0 {
			fmt.Fprintf(b, "**%s**\n\n%s\n", rule.title, strings.Join(items, ""))
		}
	}
}

func writeMeta(b *bytes.Buffer, d *Data) {
	r, h := d.Run, d.Run.Host
	item := func(k, v string) {
		if v != "" {
			fmt.Fprintf(b, "- **%s:** %s\n", k, v)
		}
	}
	item("Run", code(r.ID))
	file := code(r.File)
	if r.GitCommit != "" {
		file += " at commit " + code(r.GitCommit)
	}
	item("Scenario file", file)
	item("Platform", r.Platform)
	host := h.Hostname
	if h.OS != "" {
		host = strings.TrimSpace(host + " (" + strings.TrimSpace(h.OS+" "+h.Kernel) + ")")
	}
	item("Host", host)
	if h.CPUs > 0 || h.MemoryBytes > 0 {
		item("Host resources", fmt.Sprintf("%s, %s memory", plural(h.CPUs, "CPU", "CPUs"), bytesLabel(h.MemoryBytes)))
	}
	item("Docker", h.DockerVersion)
	item("Compose", h.ComposeVersion)
	item("Runner", r.RunnerVersion)
	if !r.Started.IsZero() {
		span := r.Started.UTC().Format(time.RFC3339)
		if !r.Ended.IsZero() {
			span += " to " + r.Ended.UTC().Format(time.RFC3339) + " (" + r.Ended.Sub(r.Started).Round(time.Second).String() + ")"
		}
		item("Time", span)
	}
	if r.SLO != nil {
		item("SLO", sloLabel(*r.SLO))
	}
	counts := map[string]int{}
	for _, s := range d.Scenarios {
		counts[s.Outcome.Status]++
	}
	var parts []string
	for _, st := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
	}
	if len(d.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d not run", len(d.Missing)))
	}
	item("Scenarios", strings.Join(parts, ", "))
	for _, n := range r.PlatformNotes {
		item("Note", n)
	}
	b.WriteString("\n")
}

// sloLabel is e.g. "p95 ≤ 3s, error rate ≤ 1.0%".
func sloLabel(s result.SLO) string {
	var parts []string
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"p50", s.P50}, {"p95", s.P95}, {"p99", s.P99},
		{"TTFT p50", s.TTFTP50}, {"TTFT p95", s.TTFTP95}, {"TTFT p99", s.TTFTP99},
		{"ITL p95", s.ITLP95}, {"ITL p99", s.ITLP99}, {"TPOT p95", s.TPOTP95}, {"TPOT p99", s.TPOTP99}} {
		if p.d > 0 {
			parts = append(parts, p.name+" ≤ "+p.d.String())
		}
	}
	if g := s.Goodput; g != nil {
		parts = append(parts, "goodput limits "+goodputLabel(*g))
	}
	if s.ErrorRate != nil {
		parts = append(parts, "error rate ≤ "+pctLabel(*s.ErrorRate))
	}
	if s.MinThroughputRPS > 0 {
		parts = append(parts, "throughput ≥ "+rpsLabel(s.MinThroughputRPS))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// writeFlags lists scenarios whose numbers need a caveat: failed ones, a load
// generator that fell short of the requested rate, limits that were only advisory.
func writeFlags(b *bytes.Buffer, d *Data) {
	var lines []string
	for _, sc := range d.Scenarios {
		o := sc.Outcome
		id := code(o.Scenario.ID)
		if o.Status != result.StatusOK {
			lines = append(lines, fmt.Sprintf("%s **%s**: %s.", id, o.Status, strings.TrimSuffix(oneLine(cmp.Or(o.Error, "no reason recorded")), ".")))
		}
		if o.Load.Shortfall {
			lines = append(lines, fmt.Sprintf("%s: the load generator fell short, sending %s where %s was requested; its latencies understate the load asked for.",
				id, rpsLabel(o.Load.RateRPS), rpsLabel(o.Load.RequestedRPS)))
		}
		if o.Resources.Advisory {
			lines = append(lines, fmt.Sprintf("%s: limits were advisory (GOMAXPROCS/GOMEMLIMIT only, not enforced), so CPU and memory may exceed them.", id))
		}
	}
	for _, m := range d.Missing {
		lines = append(lines, fmt.Sprintf("%s: not run (no readable outcome).", code(m.ID)))
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("## Flags\n\n")
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", l)
	}
	b.WriteString("\n")
}

// writeBlockIntro says what a block table's cells hold.
func writeBlockIntro(b *bytes.Buffer, bl *block, slo bool) {
	b.WriteString("Each cell: latency percentiles p50 · p95 · p99 in ms, successful requests per second and the share of failed requests")
	if slo {
		b.WriteString(", and whether the SLO was met (✓) or missed (✗)")
	}
	b.WriteString(".")
	if bl.repeated() {
		b.WriteString(" A scenario run more than once shows the medians over its repeats, then the spread of its p99 (ms) and throughput: the 95% confidence interval of the median from 6 repeats on, else their range (min–max).")
	}
	b.WriteString("\n\n")
}

func blockTable(b *bytes.Buffer, bl *block) error {
	header := []string{"replicas", "CPUs", "memory", "balancer"}
	for _, lv := range bl.Levels {
		header = append(header, lv.Label)
	}
	var rows [][]string
	for _, c := range bl.Configs {
		row := []string{fmt.Sprint(c.Replicas), cpusCell(c.CPUs), memCell(c.MemoryBytes), c.Balancer}
		for _, lv := range bl.Levels {
			var cells []string
			for _, sc := range bl.Cells[c][lv.Label] {
				cells = append(cells, blockCell(sc.Outcome))
			}
			for range bl.NotRun[c][lv.Label] {
				cells = append(cells, "not run")
			}
			row = append(row, strings.Join(cells, "<br>"))
		}
		rows = append(rows, row)
	}
	return table(b, header, rows)
}

func cpusCell(c float64) string {
	if c <= 0 {
		return "unlimited"
	}
	return fnum(c)
}

func memCell(m int64) string {
	if m <= 0 {
		return "unlimited"
	}
	return bytesLabel(m)
}

// blockCell is one scenario in a block table.
func blockCell(o result.Outcome) string {
	l := o.Load
	if o.Status != result.StatusOK && l.Requests == 0 {
		return "**" + o.Status + "**: " + truncate(oneLine(cmp.Or(o.Error, "no reason recorded")), 60)
	}
	s := ""
	if c := l.Capacity; c != nil {
		s = "capacity **" + capacityLabel(c) + "**<br>"
	}
	s += fmt.Sprintf("%s · %s · %s<br>%s · %s err", msLabel(l.Latency.P50), msLabel(l.Latency.P95), msLabel(l.Latency.P99),
		rpsLabel(l.ThroughputRPS), pctLabel(errorRate(l)))
	s += streamCell(l)
	if o.SLOPass != nil {
		if *o.SLOPass {
			s += " · ✓"
		} else {
			s += " · ✗"
		}
	}
	s += spreadCell(o)
	var marks []string
	if o.Status != result.StatusOK {
		marks = append(marks, o.Status)
	}
	if o.Resources.OOMKills > 0 {
		marks = append(marks, "OOM")
	}
	if l.Shortfall {
		marks = append(marks, "short")
	}
	if o.Resources.Advisory {
		marks = append(marks, "advisory")
	}
	if len(marks) > 0 {
		s += "<br>⚠ " + strings.Join(marks, ", ")
	}
	return s
}

func resourcesTable(b *bytes.Buffer, d *Data) error {
	header := []string{"scenario", "peak memory / limit", "mean CPU / limit", "OOM kills", "restarts", "request share", "CPU per replica"}
	balancers := slices.ContainsFunc(d.Scenarios, func(sc Scenario) bool { return sc.Outcome.Resources.Balancer != nil })
	if balancers {
		header = append(header, "balancer CPU / peak memory")
	}
	var rows [][]string
	for _, sc := range d.Scenarios {
		o := sc.Outcome
		s, r := o.Scenario, o.Resources
		adv := ""
		if r.Advisory {
			adv = ", advisory"
		}
		mem := "–"
		if r.PeakMemBytes > 0 {
			mem = bytesLabel(r.PeakMemBytes) + " / "
			if s.MemoryBytes > 0 {
				mem += fmt.Sprintf("%s (%.0f%%%s)", bytesLabel(s.MemoryBytes), 100*float64(r.PeakMemBytes)/float64(s.MemoryBytes), adv)
			} else {
				mem += "unlimited"
			}
		}
		cpu := "–"
		if len(r.Containers) > 0 || r.MeanCPUPct > 0 {
			cpu = fmt.Sprintf("%.1f%% / ", r.MeanCPUPct)
			if s.CPUs > 0 {
				limit := 100 * s.CPUs * float64(s.Replicas)
				cpu += fmt.Sprintf("%.0f%% (%.0f%%%s)", limit, 100*r.MeanCPUPct/limit, adv)
			} else {
				cpu += "unlimited"
			}
		}
		var shares []string
		for _, e := range o.Load.Endpoints {
			shares = append(shares, fmt.Sprintf("%.0f%%", 100*share(e.Requests, o.Load.Endpoints)))
		}
		var cpus []string
		for _, c := range r.Containers {
			cpus = append(cpus, fmt.Sprintf("%.1f%%", c.MeanCPUPct))
		}
		row := []string{code(s.ID), mem, cpu, fmt.Sprint(r.OOMKills), fmt.Sprint(r.Restarts),
			cmp.Or(strings.Join(shares, " · "), "–"), cmp.Or(strings.Join(cpus, " · "), "–")}
		if balancers {
			bal := "–"
			if pb := r.Balancer; pb != nil {
				// Its limit is not shown: Docker reports the host's memory for none.
				bal = fmt.Sprintf("%.1f%% / %s", pb.MeanCPUPct, bytesLabel(pb.PeakMemBytes))
			}
			row = append(row, bal)
		}
		rows = append(rows, row)
	}
	return table(b, header, rows)
}

// servicesTable lists the side services of every scenario that has some: the
// containers a user's compose template runs beside the service under test.
func servicesTable(b *bytes.Buffer, d *Data) error {
	var rows [][]string
	for _, sc := range d.Scenarios {
		for _, s := range sc.Outcome.Resources.Services {
			mem := "–"
			if s.PeakMemBytes > 0 {
				mem = bytesLabel(s.PeakMemBytes) + " / "
				if s.MemLimitBytes > 0 {
					mem += fmt.Sprintf("%s (%.0f%%)", bytesLabel(s.MemLimitBytes), 100*float64(s.PeakMemBytes)/float64(s.MemLimitBytes))
				} else {
					mem += "–"
				}
			}
			cpu := "–"
			if s.PeakMemBytes > 0 || s.PeakCPUPct > 0 {
				cpu = fmt.Sprintf("%.1f%% / %.1f%%", s.MeanCPUPct, s.PeakCPUPct)
			}
			rows = append(rows, []string{code(sc.Outcome.Scenario.ID), code(s.Name), mem, cpu, fmt.Sprint(s.OOMKills), fmt.Sprint(s.Restarts)})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	b.WriteString("\nSide services: the other containers of the stack (a template's services beside the one under test), in none of the figures above. The memory limit is what Docker reports, the host's memory when the service sets none.\n\n")
	return table(b, []string{"scenario", "side service", "peak memory / limit", "mean / peak CPU", "OOM kills", "restarts"}, rows)
}

func writeScenario(b *bytes.Buffer, sc *Scenario, plots map[string]bool) {
	o := sc.Outcome
	l := o.Load
	writeScenarioHead(b, o)
	if l.Requests > 0 {
		writeRequests(b, l)
	}
	writeRepeats(b, o)
	if c := l.Capacity; c != nil {
		writeCapacitySteps(b, c)
	}
	if o.SLOPass != nil {
		if *o.SLOPass {
			b.WriteString("- SLO met.\n")
		} else {
			fmt.Fprintf(b, "- SLO missed: %s.\n", strings.Join(o.SLOFailures, ", "))
		}
	}
	writeCodesAndErrors(b, l)
	writeGenerator(b, l)
	for _, n := range l.Notes {
		fmt.Fprintf(b, "- Note: %s\n", n)
	}
	if p := o.Phases; p != (result.Phases{}) {
		fmt.Fprintf(b, "- Phases: build %s, up %s, healthy %s, load %s, down %s.\n", phase(p.Build), phase(p.Up), phase(p.Healthy), phase(p.Load), phase(p.Down))
	}
	writeEvents(b, sc.Events)
	b.WriteString("\n")
	var imgs []string
	for _, p := range scenarioPlots(o.Scenario.ID) {
		if plots[p.path] {
			imgs = append(imgs, fmt.Sprintf("![%s](%s)", p.alt, link(p.path)))
		}
	}
	if len(imgs) > 0 {
		b.WriteString(strings.Join(imgs, "\n") + "\n\n")
	}
}

// writeScenarioHead writes a scenario's heading and its configuration, load and status line.
func writeScenarioHead(b *bytes.Buffer, o result.Outcome) {
	s, l := o.Scenario, o.Load
	fmt.Fprintf(b, "### `%s`\n\n", s.ID)
	if s.Search != "" {
		fmt.Fprintf(b, "%s; %s in steps of %s", configOf(s), loadLevel(s, l).Label, s.Duration)
		if s.Warmup > 0 {
			fmt.Fprintf(b, ", each after a %s warm-up", s.Warmup)
		}
	} else {
		fmt.Fprintf(b, "%s; %s for %s", configOf(s), loadLevel(s, l).Label, s.Duration)
		if s.Warmup > 0 {
			fmt.Fprintf(b, " after a %s warm-up", s.Warmup)
		}
	}
	fmt.Fprintf(b, ". Status: **%s**", o.Status)
	if o.Error != "" {
		fmt.Fprintf(b, " (%s)", oneLine(o.Error))
	}
	b.WriteString(".")
	if n := len(o.Repeats); n > 0 {
		fmt.Fprintf(b, " Ran %s (planned %d); the figures are medians over the repeats that measured, the series, codes, errors and telemetry those of repeat %d, the median one.",
			plural(n, "time", "times"), max(s.Repeat, n), o.MedianRepeat)
	}
	b.WriteString("\n\n")
}

// writeRequests writes the counts, rates and latency of a scenario that sent requests.
func writeRequests(b *bytes.Buffer, l result.Load) {
	fmt.Fprintf(b, "- %d requests (%d in warm-up, excluded), %s sent, %s successful, %s failed.\n",
		l.Requests, l.WarmupRequests, rpsLabel(l.RateRPS), rpsLabel(l.ThroughputRPS), pctLabel(errorRate(l)))
	fmt.Fprintf(b, "- Latency ms: mean %s, p50 %s, p90 %s, p95 %s, p99 %s, max %s", msLabel(l.Latency.Mean), msLabel(l.Latency.P50),
		msLabel(l.Latency.P90), msLabel(l.Latency.P95), msLabel(l.Latency.P99), msLabel(l.Latency.Max))
	b.WriteString(".\n")
	if l.LatencyFrom != "" {
		fmt.Fprintf(b, "- Latency measured from: %s.\n", l.LatencyFrom)
	}
	writeStream(b, l)
}

// writeCodesAndErrors writes the status codes and the five most frequent errors.
func writeCodesAndErrors(b *bytes.Buffer, l result.Load) {
	if len(l.StatusCodes) > 0 {
		var parts []string
		for _, c := range sortedKeys(l.StatusCodes) {
			parts = append(parts, fmt.Sprintf("%s: %d", c, l.StatusCodes[c]))
		}
		fmt.Fprintf(b, "- Status codes: %s.\n", strings.Join(parts, ", "))
	}
	if len(l.Errors) > 0 {
		msgs := sortedKeys(l.Errors)
		slices.SortStableFunc(msgs, func(a, c string) int { return cmp.Compare(l.Errors[c], l.Errors[a]) })
		var parts []string
		for i, m := range msgs {
			if i == 5 {
				parts = append(parts, fmt.Sprintf("%d more", len(msgs)-5))
				break
			}
			parts = append(parts, fmt.Sprintf("%s (%d×)", code(truncate(oneLine(m), 100)), l.Errors[m]))
		}
		fmt.Fprintf(b, "- Errors: %s.\n", strings.Join(parts, ", "))
	}
}

// writeGenerator writes what the load generator itself used.
func writeGenerator(b *bytes.Buffer, l result.Load) {
	if l.GeneratorCPU <= 0 && l.PeakInFlight <= 0 {
		return
	}
	fmt.Fprintf(b, "- Load generator: %.2f CPU-seconds (%.0f%% of a CPU), peak %d requests in flight", l.GeneratorCPU.Seconds(),
		100*l.GeneratorCPU.Seconds()/math.Max(l.Elapsed.Seconds(), 1e-9), l.PeakInFlight)
	if l.GeneratorPeakRSSBytes > 0 {
		fmt.Fprintf(b, ", peak RSS %s", bytesLabel(l.GeneratorPeakRSSBytes))
	}
	b.WriteString(".\n")
}

// writeEvents writes a scenario's container events on one line, its start left out.
func writeEvents(b *bytes.Buffer, events []result.Event) {
	var evs []string
	for _, e := range events {
		if e.Kind == result.EventStart {
			continue
		}
		s := e.Time.UTC().Format("15:04:05") + " " + e.Kind
		if e.Container != "" {
			s += " " + code(e.Container)
		}
		if e.ExitCode != nil {
			s += fmt.Sprintf(" exit %d", *e.ExitCode)
		}
		if e.Message != "" {
			s += ": " + truncate(oneLine(e.Message), 100)
		}
		evs = append(evs, s)
	}
	if len(evs) > 0 {
		fmt.Fprintf(b, "- Events: %s.\n", strings.Join(evs, "; "))
	}
}

func phase(d time.Duration) string { return d.Round(time.Millisecond).String() }

// table renders a Markdown table with tablewriter.
func table(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	esc := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = strings.ReplaceAll(oneLine(c), "|", `\|`)
		}
		return out
	}
	t.Header(esc(header))
	for _, r := range rows {
		if err := t.Append(esc(r)); err != nil {
			return fmt.Errorf("table row: %w", err)
		}
	}
	return t.Render()
}

// code wraps s in backticks, or returns "" for "".
func code(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// link turns a slash-separated relative path into a Markdown link target.
func link(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
