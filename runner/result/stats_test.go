package result

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatsRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 5, time.UTC)
	in := []Sample{
		{Time: t0, Container: "a-1", CPUPct: 12.5, MemBytes: 1 << 20, MemLimitBytes: 1 << 30, NetRxBytes: 10, NetTxBytes: 20, PIDs: 7, Role: RoleReplica},
		{Time: t0.Add(time.Second), Container: "a,2", CPUPct: 0, MemBytes: 5, Role: RoleReplica},
		{Time: t0.Add(time.Second), Container: "mlflow-1", CPUPct: 3, MemBytes: 50 << 20, MemLimitBytes: 100 << 20, Role: RoleSide},
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

// TestReadStatsWithoutRole reads a stats.csv of a run from before the role column.
func TestReadStatsWithoutRole(t *testing.T) {
	data := "time,container,cpu_pct,mem_bytes,mem_limit_bytes,net_rx_bytes,net_tx_bytes,pids\n2026-11-28T12:00:00Z,a,1.00,1,2,3,4,5\n"
	got, err := ReadStats(strings.NewReader(data))
	if err != nil || len(got) != 1 || got[0].Role != "" || got[0].PIDs != 5 {
		t.Fatalf("got %+v, err %v; want one sample without a role", got, err)
	}
	var buf bytes.Buffer
	w, _ := NewStatsWriter(&buf)
	w.Write(Sample{Container: "x"})
	if !strings.HasSuffix(buf.String(), ",replica\n") {
		t.Errorf("a sample without a role is written as %q, want the role replica", buf.String())
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

// TestStatsTruncated: stats.csv cut at any byte (a crash mid-write) reads
// without error, and exactly the lines complete before the cut read back as
// written.
func TestStatsTruncated(t *testing.T) {
	var buf bytes.Buffer
	sw, err := NewStatsWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var want []Sample
	ends := []int{buf.Len()}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 8 {
		s := Sample{Time: t0.Add(time.Duration(i) * time.Second), Container: fmt.Sprintf("app-%d", i%2+1),
			CPUPct: 12.5 * float64(i), MemBytes: int64(i) << 20, MemLimitBytes: 256 << 20, NetRxBytes: uint64(i) * 1000, NetTxBytes: 7, PIDs: 12}
		if err := sw.Write(s); err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
		ends = append(ends, buf.Len())
	}
	full := buf.Bytes()
	for cut := ends[0]; cut <= len(full); cut++ {
		got, err := ReadStats(bytes.NewReader(full[:cut]))
		if err != nil {
			t.Fatalf("cut at byte %d of %d: %v", cut, len(full), err)
		}
		complete := 0
		for _, e := range ends[1:] {
			if e <= cut {
				complete++
			}
		}
		if len(got) != complete {
			t.Fatalf("cut at byte %d: %d samples, want %d", cut, len(got), complete)
		}
		for i := range complete {
			if !got[i].Time.Equal(want[i].Time) || got[i].Container != want[i].Container || got[i].MemBytes != want[i].MemBytes || got[i].PIDs != want[i].PIDs {
				t.Fatalf("cut at byte %d: sample %d is %+v, want %+v", cut, i, got[i], want[i])
			}
		}
	}
}
