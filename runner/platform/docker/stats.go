package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/infergrid/runner/runner/result"
)

// Target is a container Sampler reads, with the name and role samples carry.
type Target struct {
	ID, Name string
	// Role is the samples' role (result.Role*); empty leaves it to the caller.
	Role string
}

// Sampler keeps a stats stream open per container, as `docker stats` does: the
// daemon collects stats once a second and pushes them, so reading the latest
// values costs nothing, where every one-shot request waits for the daemon's next
// collection (up to a second; two without one-shot). Use Client.NewSampler and
// Close it.
type Sampler struct {
	c       *Client
	targets []Target
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	latest  map[string]*reading
	changed chan struct{}
	closed  bool
}

type reading struct {
	sample result.Sample // without Time
	// cpu is true once the reading has a previous one to compute CPU % from.
	cpu bool
	// stopped is true while the container is not running (no stream).
	stopped bool
	err     error
}

// NewSampler starts streaming the stats of targets.
func (c *Client) NewSampler(targets []Target) *Sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sampler{c: c, targets: targets, cancel: cancel, latest: map[string]*reading{}, changed: make(chan struct{})}
	for _, t := range targets {
		s.latest[t.ID] = &reading{}
	}
	// Start streaming only now: the streams read latest.
	for _, t := range targets {
		s.wg.Go(func() { s.stream(ctx, t) })
	}
	return s
}

// stream reads t's stats until ctx ends, reconnecting after the container stops
// (it may be restarted).
func (s *Sampler) stream(ctx context.Context, t Target) {
	for ctx.Err() == nil {
		err := s.read(ctx, t)
		if ctx.Err() != nil {
			return
		}
		s.update(t.ID, func(r *reading) {
			r.stopped = true
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				r.err = err
			}
		})
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *Sampler) read(ctx context.Context, t Target) error {
	res, err := s.c.api.ContainerStats(ctx, t.ID, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		err = fmt.Errorf("cannot read stats of %s: %w", t.Name, err)
		if client.IsErrConnectionFailed(err) {
			return s.c.lost(err) // the daemon is gone: the monitor tells the run
		}
		return err
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	var prev *container.CPUStats
	for {
		var st container.StatsResponse
		if err := dec.Decode(&st); err != nil {
			return err
		}
		if st.Read.IsZero() || st.Read.Year() < 2000 {
			return nil // not running
		}
		x := ToSample(t.Name, prev, st)
		x.Role = t.Role
		hasCPU := prev != nil || st.PreCPUStats.SystemUsage != 0
		cur := st.CPUStats
		prev = &cur
		s.update(t.ID, func(r *reading) {
			*r = reading{sample: x, cpu: hasCPU}
		})
	}
}

func (s *Sampler) update(id string, f func(*reading)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.latest[id])
	close(s.changed)
	s.changed = make(chan struct{})
}

// Sample returns the latest reading of every running target, all with the time of
// the call. Right after NewSampler it waits (within ctx) until each running
// container has two readings, so that the CPU % is defined. Stopped containers
// give no sample; stream failures are joined into the error next to the samples,
// and wrap platform.ErrUnavailable once the daemon no longer accepts connections.
// A closed Sampler gives nothing: its last readings are no longer current.
func (s *Sampler) Sample(ctx context.Context) ([]result.Sample, error) {
	now := time.Now()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, nil
		}
		ready := true
		for _, t := range s.targets {
			if r := s.latest[t.ID]; !r.cpu && !r.stopped && r.err == nil {
				ready = false
			}
		}
		if ready || ctx.Err() != nil {
			var out []result.Sample
			var errs []error
			for _, t := range s.targets {
				r := s.latest[t.ID]
				switch {
				case r.err != nil:
					errs = append(errs, r.err)
				case r.stopped:
				case r.cpu:
					x := r.sample
					x.Time = now
					out = append(out, x)
				default:
					errs = append(errs, fmt.Errorf("no stats of %s yet: %w", t.Name, ctx.Err()))
				}
			}
			s.mu.Unlock()
			return out, errors.Join(errs...)
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
		}
	}
}

// Close ends the streams; Sample gives nothing after it.
func (s *Sampler) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.changed) // wakes a Sample waiting for readings
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
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
