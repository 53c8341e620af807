package result

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatsRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 5, time.UTC)
	in := []Sample{
		{Time: t0, Container: "a-1", CPUPct: 12.5, MemBytes: 1 << 20, MemLimitBytes: 1 << 30, NetRxBytes: 10, NetTxBytes: 20, PIDs: 7},
		{Time: t0.Add(time.Second), Container: "a,2", CPUPct: 0, MemBytes: 5},
	}
	var buf bytes.Buffer
	w, err := NewStatsWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(in...); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "time,container,cpu_pct,mem_bytes,mem_limit_bytes,") {
		t.Errorf("header: %q", buf.String())
	}
	got, err := ReadStats(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
	}
}

func TestReadStatsTruncatedTail(t *testing.T) {
	data := strings.Join(StatsHeader, ",") + "\n2026-11-28T12:00:00Z,a,1.00,1,2,3,4,5\n2026-11-28T12:00:01Z,a,1.0"
	got, err := ReadStats(strings.NewReader(data))
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d samples, err %v; want 1, nil", len(got), err)
	}
	bad := strings.Join(StatsHeader, ",") + "\nnot-a-time,a,1,1,2,3,4,5\n"
	if _, err := ReadStats(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad time: err = %v, want line 2", err)
	}
}
