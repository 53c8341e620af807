package local

import (
	"context"
	"testing"
	"time"
)

// BenchmarkUpDown measures the local platform's orchestration overhead for 2
// replicas of the test service with cgroup limits where permitted: start, health,
// stop. The per-phase means are reported as up-s/op and down-s/op.
func BenchmarkUpDown(b *testing.B) {
	p := New(Options{})
	defer p.Close()
	var up, down time.Duration
	for b.Loop() {
		s := spec(b, 2)
		s.CPUs, s.MemoryBytes = 0.5, 64<<20
		t0 := time.Now()
		st, err := p.Up(b.Context(), s)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := st.Down(context.Background()); err != nil {
			b.Fatal(err)
		}
		up += t1.Sub(t0)
		down += time.Since(t1)
	}
	b.ReportMetric(up.Seconds()/float64(b.N), "up-s/op")
	b.ReportMetric(down.Seconds()/float64(b.N), "down-s/op")
}
