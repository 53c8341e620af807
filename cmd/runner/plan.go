package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/infergrid/runner/runner/preflight"
	"github.com/infergrid/runner/runner/render"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("plan", `Usage: runner plan FILE [--json] [--host-cpus N] [--host-memory SIZE]

Lists the scenarios FILE expands to, in run order, with their replicas, limits,
balancer and load, the estimated wall time of each and of the whole run (warm-up +
duration + about 10s to bring each stack up and down), and whether each fits this
host: the replicas' memory limits must fit its memory and their CPU limits its CPUs.

Options:
OPTIONS
Examples:
  runner plan scenarios/workshop5.yaml
  runner plan scenarios/workshop5.yaml --json | jq '.[] | select(.fits == false)'
  runner plan scenarios/workshop5.yaml --host-cpus 16 --host-memory 64G
`, stdout)
	asJSON := fs.Bool("json", false, "print a JSON array of scenarios (keys follow results.csv) instead of a table")
	hostCPUs := fs.Int("host-cpus", 0, "plan for a host with `N` CPUs (default: this host's)")
	hostMem := fs.String("host-memory", "", "plan for a host with `SIZE` of memory, e.g. 16G (default: this host's)")
	pos, code, ok := parse(fs, args, stderr)
	if !ok {
		return code
	}
	path, ok := oneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	h, err := preflight.ReadHost()
	if err != nil && *hostMem == "" {
		fmt.Fprintf(stderr, "runner plan: %v; pass --host-memory\n", err)
		return exitPlatform
	}
	if *hostCPUs != 0 {
		if *hostCPUs < 0 {
			fmt.Fprintln(stderr, "runner plan: --host-cpus must be 1 or more")
			return exitUsage
		}
		h.CPUs = *hostCPUs
	}
	if *hostMem != "" {
		v, err := units.RAMInBytes(*hostMem)
		if err != nil || v <= 0 {
			fmt.Fprintf(stderr, "runner plan: --host-memory %q is not a size such as 16G\n", *hostMem)
			return exitUsage
		}
		h.MemAvailableBytes = v
	}
	f, code := loadFile(path, stderr)
	if code != exitOK {
		return code
	}
	rows := planRows(f, h)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			fmt.Fprintf(stderr, "runner plan: %v\n", err)
			return exitPlatform
		}
		return exitOK
	}
	if err := planTable(stdout, f, h, rows); err != nil {
		fmt.Fprintf(stderr, "runner plan: %v\n", err)
		return exitPlatform
	}
	return exitOK
}

// planRow is one scenario of `runner plan --json`. The keys follow the results.csv
// columns of DESIGN.md; null where a value does not apply (cpus and memory_bytes
// are null when unlimited).
type planRow struct {
	Scenario    string   `json:"scenario"`
	Block       string   `json:"block"`
	Replicas    *int     `json:"replicas"`
	CPUs        *float64 `json:"cpus"`
	MemoryBytes *int64   `json:"memory_bytes"`
	CPUSet      *string  `json:"cpuset"`
	Balancer    string   `json:"balancer"`
	Users       *int     `json:"users"`
	SpawnRate   *float64 `json:"spawn_rate"`
	Think       *string  `json:"think"`
	Rate        *string  `json:"rate"`
	DurationS   float64  `json:"duration_s"`
	WarmupS     float64  `json:"warmup_s"`
	EstimatedS  float64  `json:"estimated_s"`
	// Fits is false when the scenario cannot run on this host (memory, cpuset);
	// runner run refuses it unless --allow-overcommit.
	Fits bool `json:"fits"`
	// FitProblems says what does not fit.
	FitProblems []string `json:"fit_problems"`
	// Warnings say what runs but competes or falls short (CPUs shared, users
	// that cannot all spawn in time).
	Warnings []string `json:"warnings"`
	// Search is a capacity search's range of rates ("50/s..5000/s"); rate is then null.
	Search *string `json:"search,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func planRows(f *spec.File, h preflight.Host) []planRow {
	var rows []planRow
	for _, s := range f.Scenarios() {
		r := s.Result()
		row := planRow{
			Scenario:    s.ID,
			Block:       s.Block,
			Balancer:    s.BalancerLabel(),
			DurationS:   s.Load.Duration.Seconds(),
			WarmupS:     s.Load.Warmup.Seconds(),
			EstimatedS:  s.Estimate().Seconds(),
			FitProblems: []string{},
			Warnings:    []string{},
		}
		for _, p := range preflight.Check(h, []result.Scenario{r}, preflight.Options{}) {
			if p.Warning {
				row.Warnings = append(row.Warnings, p.Short)
			} else {
				row.FitProblems = append(row.FitProblems, p.Short)
			}
		}
		row.Fits = len(row.FitProblems) == 0
		if f.Platform != "external" {
			row.Replicas = ptr(s.Replicas)
		}
		if s.CPUs > 0 {
			row.CPUs = ptr(s.CPUs)
		}
		if s.MemoryBytes > 0 {
			row.MemoryBytes = ptr(s.MemoryBytes)
		}
		if s.CPUSet != "" {
			row.CPUSet = ptr(s.CPUSet)
		}
		switch {
		case s.Load.Closed():
			row.Users, row.SpawnRate, row.Think = ptr(r.Users), ptr(r.SpawnRate), ptr(r.Think)
		case s.Load.Search():
			row.Search = ptr(r.Search)
		default:
			row.Rate = ptr(r.Rate)
		}
		rows = append(rows, row)
	}
	return rows
}

func human(b int64) string { return units.BytesSize(float64(b)) }

func planTable(w io.Writer, f *spec.File, h preflight.Host, rows []planRow) error {
	fmt.Fprintf(w, "%s: %d scenarios, platform %s\n", f.Name, len(rows), f.Platform)
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header("#", "SCENARIO", "REPLICAS", "CPUS", "MEMORY", "BALANCER", "LOAD", "WARMUP+DURATION", "EST.", "FITS")
	var total time.Duration
	misfits := 0
	for i, s := range f.Scenarios() {
		total += s.Estimate()
		fits := "yes"
		if !rows[i].Fits {
			fits = "NO: " + strings.Join(rows[i].FitProblems, "; ")
			misfits++
		} else if len(rows[i].Warnings) > 0 {
			fits = "yes (" + strings.Join(rows[i].Warnings, "; ") + ")"
		}
		replicas, cpus, mem := "-", "-", "-"
		if f.Platform != "external" {
			replicas, cpus, mem = strconv.Itoa(s.Replicas), "unlimited", "unlimited"
			if s.CPUs > 0 {
				cpus = strconv.FormatFloat(s.CPUs, 'f', -1, 64)
			}
			if s.CPUSet != "" {
				cpus += " on " + s.CPUSet
			}
			if s.MemoryBytes > 0 {
				mem = render.Bytes(s.MemoryBytes)
			}
		}
		times := s.Load.Warmup.String() + "+" + s.Load.Duration.String()
		if s.Load.Search() {
			times = fmt.Sprintf("≤%d×(%s)", s.Load.SearchSteps, times)
		}
		if err := t.Append(strconv.Itoa(i+1), s.ID, replicas, cpus, mem, s.BalancerLabel(), s.Load.String(),
			times, s.Estimate().String(), fits); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "estimated wall time: %s (%d scenarios, about %s of orchestration each)\n", total, len(rows), spec.Overhead)
	fmt.Fprintf(w, "host: %d CPUs, %s memory available; ", h.CPUs, human(h.MemAvailableBytes))
	if misfits == 0 {
		fmt.Fprintln(w, "every scenario fits")
	} else {
		fmt.Fprintf(w, "%d of %d scenarios do not fit (FITS column); runner run refuses them unless --allow-overcommit\n", misfits, len(rows))
	}
	return nil
}
