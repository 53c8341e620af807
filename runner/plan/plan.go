// Package plan says what a scenario file will run before anything starts: its
// scenarios in run order with their replicas, limits, balancer and load, the
// estimated wall time, and whether each fits a host (runner plan).
package plan

import (
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

// Row is one scenario of a plan, and of `runner plan --json`. The keys follow the results.csv
// columns of DESIGN.md; null where a value does not apply (cpus and memory_bytes
// are null when unlimited).
type Row struct {
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

// Rows is the plan of f's scenarios on host h, in run order.
func Rows(f *spec.File, h preflight.Host) []Row {
	var rows []Row
	for _, s := range f.Scenarios() {
		r := s.Result()
		row := Row{
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

// Table writes the plan as a table with the total estimate and what fits h.
func Table(w io.Writer, f *spec.File, h preflight.Host, rows []Row) error {
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
	fmt.Fprintf(w, "host: %d CPUs, %s memory available; ", h.CPUs, units.BytesSize(float64(h.MemAvailableBytes)))
	if misfits == 0 {
		fmt.Fprintln(w, "every scenario fits")
	} else {
		fmt.Fprintf(w, "%d of %d scenarios do not fit (FITS column); runner run refuses them unless --allow-overcommit\n", misfits, len(rows))
	}
	return nil
}
