package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/infergrid/runner/runner/load"
)

// runLoad runs one load with the runner's engine, closed (-users) or open
// (-rate), and prints the result.Load as JSON.
func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var (
		url      = fs.String("url", "", "target base URL")
		path     = fs.String("path", "/predict", "request path")
		users    = fs.Int("users", 50, "closed-model users")
		rate     = fs.Float64("rate", 0, "open-model arrival rate per second (instead of -users)")
		warmup   = fs.Duration("warmup", 0, "warm-up before the measured duration")
		spawn    = fs.Float64("spawn", 0, "users started per second (0: all at once)")
		thinkMin = fs.Duration("think-min", 0, "minimum think time")
		thinkMax = fs.Duration("think-max", 0, "maximum think time")
		duration = fs.Duration("duration", 10*time.Second, "load duration")
		out      = fs.String("out", "", "raw results file")
		cpuProf  = fs.String("cpuprofile", "", "write a CPU profile to this file")
		memStats = fs.Bool("memstats", false, "print the Go runtime's peak memory figures on stderr")
		memProf  = fs.String("memprofile", "", "with -memstats, write a heap profile at the peak to this file")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	if *memStats {
		done := make(chan struct{})
		defer close(done)
		go sampleMemory(done, *memProf)
	}
	c := load.Config{
		Progress: func(p load.Progress) {
			if *memStats {
				fmt.Fprintf(os.Stderr, "%s users %d in-flight %d rate %.0f/s p99 %s\n", p.Elapsed.Round(time.Second), p.Users, p.InFlight, p.RatePerSecond, p.P99)
			}
		},
		Targets: []string{*url}, Path: *path, Users: *users, SpawnRate: *spawn,
		ThinkMin: *thinkMin, ThinkMax: *thinkMax, Duration: *duration, Warmup: *warmup, ResultsPath: *out,
	}
	if *rate > 0 {
		c.Users, c.SpawnRate, c.Rate = 0, 0, *rate
	}
	l, err := load.Run(ctx, c)
	if err != nil {
		return err
	}
	l.Series = nil
	if err := json.NewEncoder(os.Stdout).Encode(l); err != nil {
		return fmt.Errorf("cannot print the result: %w", err)
	}
	return nil
}

// sampleMemory prints the largest Go runtime memory figures seen, once per second.
func sampleMemory(done <-chan struct{}, profile string) {
	var peak runtime.MemStats
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.Sys <= peak.Sys {
			continue
		}
		{
			peak = m
			if profile != "" {
				if f, err := os.Create(profile); err == nil {
					_ = pprof.WriteHeapProfile(f)
					_ = f.Close()
				}
			}
		}
		fmt.Fprintf(os.Stderr, "goroutines %d heap-inuse %d MiB heap-sys %d MiB stack-inuse %d MiB sys %d MiB (peak sys %d MiB)\n",
			runtime.NumGoroutine(), m.HeapInuse>>20, m.HeapSys>>20, m.StackInuse>>20, m.Sys>>20, peak.Sys>>20)
	}
}
