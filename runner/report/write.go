package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/infergrid/runner/runner/result"
)

// Write reads the run directory dir and (re)writes report.md, report.html, results.csv,
// summary.json and the PNG plots into it. Missing and corrupt files of the run are
// not fatal: each is named in the returned problems, and everything that can be
// rendered is. The error is ErrNotRunDir (wrapped) when dir holds nothing of a run,
// or the reason a report file could not be written.
func Write(dir string) (problems []string, err error) {
	return WriteWith(dir, Options{})
}

// Options change what Write renders.
type Options struct {
	// NoPlots skips the PNG plots (and their links in report.md).
	NoPlots bool
}

// WriteWith is Write with options.
func WriteWith(dir string, o Options) (problems []string, err error) {
	d, err := Read(dir)
	if err != nil {
		return nil, err
	}
	var plots map[string]bool
	if !o.NoPlots {
		var plotProblems []string
		plots, plotProblems = writePlots(d)
		d.Problems = append(d.Problems, plotProblems...)
	}
	return d.Problems, WriteFiles(d, plots)
}

// WriteFiles writes report.md, report.html, results.csv and summary.json of d into d.Dir;
// plots lists the plot files that exist, relative to d.Dir with slashes.
func WriteFiles(d *Data, plots map[string]bool) error {
	outcomes := d.Outcomes()
	findings := Findings(d.Run, outcomes)
	var csvBuf, jsonBuf, mdBuf, htmlBuf bytes.Buffer
	if err := WriteResults(&csvBuf, d.Scenarios); err != nil {
		return fmt.Errorf("cannot render %s: %w", ResultsFile, err)
	}
	if err := WriteSummary(&jsonBuf, NewSummary(d, findings)); err != nil {
		return fmt.Errorf("cannot render %s: %w", SummaryFile, err)
	}
	if err := Markdown(&mdBuf, d, findings, plots); err != nil {
		return fmt.Errorf("cannot render %s: %w", ReportFile, err)
	}
	if err := HTML(&htmlBuf, d, findings); err != nil {
		return fmt.Errorf("cannot render %s: %w", HTMLFile, err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{ResultsFile, csvBuf.Bytes()}, {SummaryFile, jsonBuf.Bytes()}, {ReportFile, mdBuf.Bytes()}, {HTMLFile, htmlBuf.Bytes()}} {
		if err := writeFile(filepath.Join(d.Dir, f.name), f.b); err != nil {
			return err
		}
	}
	return nil
}

// Outcomes are the outcomes of the scenarios read, in report order.
func (d *Data) Outcomes() []result.Outcome {
	out := make([]result.Outcome, len(d.Scenarios))
	for i, s := range d.Scenarios {
		out[i] = s.Outcome
	}
	return out
}

// writeFile writes b to path through a temporary file and a rename, so a reader
// never sees half a file; it creates the parent folder.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
