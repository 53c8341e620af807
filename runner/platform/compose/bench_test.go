package compose

import (
	"context"
	"testing"
	"time"
)

// BenchmarkUpDown measures the orchestration overhead of one scenario with the
// FROM scratch test image: up (compose up -d, port discovery, health) and down
// (compose down plus the label sweep), for 2 replicas, per compose tool. The
// per-phase means are reported as up-s/op and down-s/op.
func BenchmarkUpDown(b *testing.B) {
	for _, tool := range tools(b) {
		b.Run(tool.String(), func(b *testing.B) {
			p := prepared(b, tool)
			var up, down time.Duration
			for b.Loop() {
				s := spec(b, composeOpts{replicas: 2, cpus: "0.5", memory: "64M"})
				t0 := time.Now()
				st, err := p.Up(b.Context(), s)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				err = st.Down(ctx)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				up += t1.Sub(t0)
				down += time.Since(t1)
			}
			b.ReportMetric(up.Seconds()/float64(b.N), "up-s/op")
			b.ReportMetric(down.Seconds()/float64(b.N), "down-s/op")
		})
	}
}
