package report

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// percentFlag is a threshold flag written as a percentage ("10%").
type percentFlag struct{ v *float64 }

func (p percentFlag) String() string {
	if p.v == nil {
		return ""
	}
	return fmt.Sprintf("%g%%", *p.v*100)
}

func (p percentFlag) Set(s string) error {
	v, err := ParsePercent(s)
	if err != nil {
		return err
	}
	*p.v = v
	return nil
}

// TestFlags registers on fs the options of the tests that `runner compare` and
// `runner history` share (history finds change points by these tests alone):
// --max-p99-increase, --max-throughput-drop (percentages) and --alpha.
func (o *CompareOptions) TestFlags(fs *flag.FlagSet) {
	fs.Var(percentFlag{&o.MaxP99Increase}, "max-p99-increase", "largest allowed p99 increase")
	fs.Var(percentFlag{&o.MaxThroughputDrop}, "max-throughput-drop", "largest allowed throughput drop")
	fs.Float64Var(&o.Alpha, "alpha", DefaultAlpha, "significance level")
}

// ErrorRateFlag registers on fs --max-error-rate, a percentage (runner compare).
func (o *CompareOptions) ErrorRateFlag(fs *flag.FlagSet) {
	fs.Var(percentFlag{&o.MaxErrorRate}, "max-error-rate", "highest allowed error rate")
}

// CheckAlpha says why o.Alpha is not a significance level; nil when it is.
func (o CompareOptions) CheckAlpha() error {
	if o.Alpha > 0 && o.Alpha <= 1 {
		return nil
	}
	return fmt.Errorf("--alpha %g: want a significance level above 0 and at most 1, e.g. 0.05", o.Alpha)
}

// WriteHTML writes the comparison's HTML page to path.
func (c *Comparison) WriteHTML(path string) error {
	var b bytes.Buffer
	if err := c.HTML(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write the HTML comparison: %w", err)
	}
	return nil
}

// WriteHTML writes the history's HTML page to path.
func (h *History) WriteHTML(path string) error {
	var b bytes.Buffer
	if err := h.HTML(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write the HTML report: %w", err)
	}
	return nil
}

// WriteMarkdown writes the history's Markdown report to path (creating its
// folder), or to stdout when path is empty.
func (h *History) WriteMarkdown(path string, stdout io.Writer) error {
	var md bytes.Buffer
	if err := h.Markdown(&md); err != nil {
		return err
	}
	if path == "" {
		_, err := stdout.Write(md.Bytes())
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(path, md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// CompareRuns reads BASE and NEW (run directories or results.csv files) and
// compares them. problems are what was missing or unreadable in either, to tell;
// an error says that a side cannot be read at all (NEW is not read then when
// BASE cannot be).
func CompareRuns(base, new string, o CompareOptions) (c *Comparison, problems []string, err error) {
	var sides [2]*Results
	for i, path := range []string{base, new} {
		r, probs, err := ReadResults(path)
		problems = append(problems, probs...)
		if err != nil {
			return nil, problems, fmt.Errorf("cannot read %s: %w", path, err)
		}
		sides[i] = r
	}
	return Compare(sides[0], sides[1], o), problems, nil
}
