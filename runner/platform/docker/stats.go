package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/result"
)

// ErrNotRunning is returned by Stats for a container that has stopped.
var ErrNotRunning = errors.New("container is not running")

// Stats reads a container's current counters once. It asks for one-shot stats
// (API 1.41+), which answer at once instead of waiting a second for a previous
// sample; CPU % is computed by Sampler from two successive readings.
func (c *Client) Stats(ctx context.Context, id string) (container.StatsResponse, error) {
	res, err := c.api.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return container.StatsResponse{}, fmt.Errorf("cannot read stats of %s: %w", id, err)
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("cannot decode stats of %s: %w", id, err)
	}
	if s.Read.IsZero() || s.Read.Year() < 2000 {
		return s, fmt.Errorf("stats of %s: %w", id, ErrNotRunning)
	}
	return s, nil
}

// Target is a container Sampler reads, with the name samples carry.
type Target struct {
	ID, Name string
}

// Sampler reads the stats of a set of containers concurrently and keeps each one's
// previous CPU counters, so that every Sample gives the CPU % since the last one.
type Sampler struct {
	c    *Client
	mu   sync.Mutex
	prev map[string]container.CPUStats
}

// NewSampler returns a sampler with no previous readings.
func (c *Client) NewSampler() *Sampler {
	return &Sampler{c: c, prev: map[string]container.CPUStats{}}
}

// Sample reads every target once; all samples carry the same time. Stopped
// containers give no sample and no error; other failures are joined into the error,
// next to the samples that did succeed.
func (s *Sampler) Sample(ctx context.Context, targets []Target) ([]result.Sample, error) {
	now := time.Now()
	out := make([]*result.Sample, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			st, err := s.c.Stats(ctx, t.ID)
			if errors.Is(err, ErrNotRunning) {
				return
			}
			if err != nil {
				errs[i] = err
				return
			}
			s.mu.Lock()
			prev, ok := s.prev[t.ID]
			s.prev[t.ID] = st.CPUStats
			s.mu.Unlock()
			var pp *container.CPUStats
			if ok {
				pp = &prev
			}
			x := ToSample(t.Name, pp, st)
			x.Time = now
			out[i] = &x
		})
	}
	wg.Wait()
	samples := make([]result.Sample, 0, len(targets))
	for _, x := range out {
		if x != nil {
			samples = append(samples, *x)
		}
	}
	return samples, errors.Join(errs...)
}

// ToSample converts a stats reading the way `docker stats` does: CPU % is the
// container's share of the host's CPU time between prev and cur, times the number
// of CPUs (so 100% is one full core); memory is usage minus inactive file cache.
// With prev nil, the reading's own precpu_stats are used if present, else CPU % is 0.
func ToSample(name string, prev *container.CPUStats, cur container.StatsResponse) result.Sample {
	if prev == nil && cur.PreCPUStats.SystemUsage != 0 {
		prev = &cur.PreCPUStats
	}
	s := result.Sample{
		Time:          cur.Read,
		Container:     name,
		MemBytes:      int64(memNoCache(cur.MemoryStats)),
		MemLimitBytes: int64(cur.MemoryStats.Limit),
		PIDs:          cur.PidsStats.Current,
	}
	if prev != nil {
		s.CPUPct = cpuPercent(*prev, cur.CPUStats)
	}
	for _, n := range cur.Networks {
		s.NetRxBytes += n.RxBytes
		s.NetTxBytes += n.TxBytes
	}
	return s
}

func cpuPercent(prev, cur container.CPUStats) float64 {
	if cur.CPUUsage.TotalUsage < prev.CPUUsage.TotalUsage || cur.SystemUsage <= prev.SystemUsage {
		return 0
	}
	cpuDelta := float64(cur.CPUUsage.TotalUsage - prev.CPUUsage.TotalUsage)
	sysDelta := float64(cur.SystemUsage - prev.SystemUsage)
	cpus := float64(cur.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(cur.CPUUsage.PercpuUsage))
	}
	return cpuDelta / sysDelta * cpus * 100
}

// memNoCache is the docker CLI's calculateMemUsageUnixNoCache: usage minus
// total_inactive_file (cgroup v1) or inactive_file (cgroup v2).
func memNoCache(m container.MemoryStats) uint64 {
	if v, ok := m.Stats["total_inactive_file"]; ok && v < m.Usage {
		return m.Usage - v
	}
	if v, ok := m.Stats["inactive_file"]; ok && v < m.Usage {
		return m.Usage - v
	}
	return m.Usage
}
