package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Results is a results.csv read back: its header and its rows by scenario.
type Results struct {
	// Source is the file (or run directory) it was read from.
	Source string
	// Header is the CSV header.
	Header []string
	// IDs are the scenarios in file order.
	IDs []string
	// Rows maps a scenario to its cells by column name.
	Rows map[string]map[string]string
	// Samples maps a scenario to the repeats and per-second series behind its
	// row; empty when only a results.csv file was read.
	Samples map[string]*Samples
}

// ReadResults reads path: a results.csv file, or a run directory, whose
// results.csv is read when present and otherwise built from its outcomes (the
// problems met doing so are returned). From a run directory it also reads every
// scenario's samples: its repeats and per-second series.
func ReadResults(path string) (*Results, []string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	var problems []string
	var d *Data
	source := path
	if st.IsDir() {
		source = filepath.Join(path, ResultsFile)
		data, err = os.ReadFile(source)
		var rerr error
		d, rerr = Read(path)
		if errors.Is(err, os.ErrNotExist) {
			if rerr != nil {
				return nil, nil, rerr
			}
			problems = append(problems, fmt.Sprintf("%s: missing; built from the outcomes of %s", source, path))
			problems = append(problems, d.Problems...)
			var b bytes.Buffer
			if err := WriteResults(&b, d.Scenarios); err != nil {
				return nil, problems, err
			}
			data, err, source = b.Bytes(), nil, path
		}
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, problems, err
	}
	r, err := ParseResults(bytes.NewReader(data))
	if err != nil {
		return nil, problems, fmt.Errorf("%s: %w", source, err)
	}
	r.Source = source
	if d != nil {
		for _, sc := range d.Scenarios {
			if _, ok := r.Rows[sc.Outcome.Scenario.ID]; ok {
				r.Samples[sc.Outcome.Scenario.ID] = samplesOf(sc.Outcome, r.Header)
			}
		}
	}
	return r, problems, nil
}

// ParseResults parses results.csv content.
func ParseResults(rd io.Reader) (*Results, error) {
	cr := csv.NewReader(rd)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file, no header")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if !slices.Contains(header, "scenario") {
		return nil, fmt.Errorf("no scenario column in the header %q", strings.Join(header, ","))
	}
	r := &Results{Header: header, Rows: map[string]map[string]string{}, Samples: map[string]*Samples{}}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		id := row["scenario"]
		if _, dup := r.Rows[id]; dup {
			return nil, fmt.Errorf("line %d: scenario %q appears twice", line, id)
		}
		r.IDs = append(r.IDs, id)
		r.Rows[id] = row
	}
}

// deltaCell is "base → new (+x%)".
func deltaCell(b, n float64, prec int) string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	s := f(b) + " → " + f(n)
	if r := change(b, n); !math.IsNaN(b) && !math.IsNaN(n) && !math.IsNaN(r) {
		s += " (" + signedPct(r) + ")"
	}
	return s
}

func rateCell(b, n float64) string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return pctLabel(v)
	}
	return f(b) + " → " + f(n)
}

// ParsePercent reads a threshold written as a percentage, e.g. "10%" or "0.5%",
// and returns it as a ratio (0.10, 0.005).
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("%q is not a percentage: write it with a %% sign, e.g. 10%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a percentage of 0 or more, e.g. 10%%", s)
	}
	return v / 100, nil
}
