package result

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// StatsHeader is the header of stats.csv. Role (replica, balancer or side) came
// last; files written before it have the first statsMinColumns columns only.
var StatsHeader = []string{"time", "container", "cpu_pct", "mem_bytes", "mem_limit_bytes", "net_rx_bytes", "net_tx_bytes", "pids", "role"}

// statsMinColumns is the number of columns of the oldest stats.csv files.
const statsMinColumns = 8

// StatsWriter appends Samples to a stats.csv stream.
type StatsWriter struct {
	w *csv.Writer
}

// NewStatsWriter writes the header and returns a writer for samples.
func NewStatsWriter(w io.Writer) (*StatsWriter, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(StatsHeader); err != nil {
		return nil, err
	}
	cw.Flush()
	return &StatsWriter{w: cw}, cw.Error()
}

// Write appends samples and flushes them, so a crash loses at most one interval.
func (s *StatsWriter) Write(samples ...Sample) error {
	for _, x := range samples {
		rec := []string{
			x.Time.UTC().Format(time.RFC3339Nano),
			x.Container,
			strconv.FormatFloat(x.CPUPct, 'f', 2, 64),
			strconv.FormatInt(x.MemBytes, 10),
			strconv.FormatInt(x.MemLimitBytes, 10),
			strconv.FormatUint(x.NetRxBytes, 10),
			strconv.FormatUint(x.NetTxBytes, 10),
			strconv.FormatUint(x.PIDs, 10),
			cmp.Or(x.Role, RoleReplica),
		}
		if err := s.w.Write(rec); err != nil {
			return err
		}
	}
	s.w.Flush()
	return s.w.Error()
}

// ReadStats parses a stats.csv stream. A truncated last line (a crash mid-write) is
// ignored; any other malformed line is an error naming its line.
func ReadStats(r io.Reader) ([]Sample, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("stats.csv: %w", err)
	}
	// Every line the writer writes ends in a newline: text after the last one is
	// a line cut short by a crash, even when it has all its columns.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("stats.csv header: %w", err)
	}
	if len(head) < statsMinColumns {
		return nil, fmt.Errorf("stats.csv header has %d columns, want %v", len(head), StatsHeader)
	}
	var out []Sample
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("stats.csv line %d: %w", line, err)
		}
		if len(rec) < statsMinColumns {
			if _, err := cr.Read(); err == io.EOF {
				return out, nil // truncated last record
			}
			return out, fmt.Errorf("stats.csv line %d: %d columns, want %d", line, len(rec), len(StatsHeader))
		}
		var s Sample
		var errs [7]error
		s.Time, errs[0] = time.Parse(time.RFC3339Nano, rec[0])
		s.Container = rec[1]
		s.CPUPct, errs[1] = strconv.ParseFloat(rec[2], 64)
		s.MemBytes, errs[2] = strconv.ParseInt(rec[3], 10, 64)
		s.MemLimitBytes, errs[3] = strconv.ParseInt(rec[4], 10, 64)
		s.NetRxBytes, errs[4] = strconv.ParseUint(rec[5], 10, 64)
		s.NetTxBytes, errs[5] = strconv.ParseUint(rec[6], 10, 64)
		s.PIDs, errs[6] = strconv.ParseUint(rec[7], 10, 64)
		if len(rec) > statsMinColumns {
			s.Role = rec[statsMinColumns]
		}
		for _, e := range errs {
			if e != nil {
				return out, fmt.Errorf("stats.csv line %d: %w", line, e)
			}
		}
		out = append(out, s)
	}
}
