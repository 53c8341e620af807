package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/dashboard"
	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/platforms"
	"github.com/infergrid/runner/runner/report"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
	"github.com/infergrid/runner/runner/spec"
)

var runUsage = usageText("run")

// runOptions are the flags of runner run.
type runOptions struct {
	file, out, only, platform string
	resume                    run.Resume
	dryRun, allowOvercommit   bool
	ignoreSLO                 bool
	platformOptions           platforms.FileOptions
	interval                  time.Duration
	dashboard                 string
	dashboardExit             bool
	// repeat is --repeat; 0 when not given (the file's repeat keys apply).
	repeat int
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	fs := cli.NewFlags("run", runUsage, stdout)
	var o runOptions
	fs.StringVar(&o.out, "out", "runs", "write run directories under `DIR`")
	fs.StringVar(&o.only, "only", "", "run only scenarios whose ID matches `PATTERN` (a glob, or a substring)")
	fs.StringVar(&o.platform, "platform", "", "override the file's platform: auto, compose, swarm, local or external")
	fs.IntVar(&o.repeat, "repeat", 0, "run every scenario `N` times (1 to 100), overriding the file's repeat keys; results.csv gives the median and its interval")
	o.platformOptions.Flags(fs)
	fs.Var(&o.resume, "resume", "skip the finished scenarios of an interrupted run: the latest of this file under --out, or --resume=`RUN_DIR`")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be done, and start nothing")
	fs.BoolVar(&o.allowOvercommit, "allow-overcommit", false, "run scenarios whose memory limits exceed this host's available memory (warn instead of refusing)")
	fs.BoolVar(&o.ignoreSLO, "ignore-slo", false, "exit 0 even when a scenario fails or misses the SLO")
	fs.DurationVar(&o.interval, "interval", time.Second, "container telemetry sampling `interval`")
	fs.StringVar(&o.dashboard, "dashboard", "", "serve a live web dashboard of the run on `ADDR` (HOST:PORT; a bare PORT binds 127.0.0.1), and its final state after the run until Ctrl-C")
	fs.BoolVar(&o.dashboardExit, "dashboard-exit", false, "with --dashboard, stop serving as soon as the run ends")
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	file, ok := cli.OneFile(fs, pos, stderr)
	if !ok {
		return exitUsage
	}
	o.file = file
	if err := checkRepeatFlag(fs, o.repeat); err != nil {
		fmt.Fprintf(stderr, "runner run: --repeat %v\n", err)
		return exitUsage
	}
	return runFile(ctx, o, stdout, stderr)
}

// checkRepeatFlag refuses a --repeat given outside 1..spec.MaxRepeat.
func checkRepeatFlag(fs *flag.FlagSet, n int) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "repeat" })
	if !given {
		return nil
	}
	return spec.CheckRepeat(n)
}

// selectRun loads the file of a run, picks its platform and scenarios, and
// refuses (exit 2) what cannot run on it or does not fit this host.
func selectRun(o runOptions, stderr io.Writer) (*spec.File, run.Choice, int) {
	f, code := cli.LoadFile(o.file, stderr)
	if code != exitOK {
		return nil, run.Choice{}, code
	}
	c, err := run.Choose(f, o.file, run.ChoiceOptions{Platform: o.platform, Only: o.only, Repeat: o.repeat, AllowOvercommit: o.allowOvercommit})
	for _, w := range c.Warnings {
		fmt.Fprintf(stderr, "runner run: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return nil, c, exitUsage
	}
	return f, c, exitOK
}

func runFile(ctx context.Context, o runOptions, stdout, stderr io.Writer) int {
	f, choice, code := selectRun(o, stderr)
	if code != exitOK {
		return code
	}
	if o.dryRun {
		run.DryRun(stdout, f, choice.Scenarios, choice.Platform, o.file, o.out)
		return exitOK
	}
	s, err := run.Start(ctx, f, choice, run.StartOptions{
		File: o.file, Out: o.out, Resume: o.resume, Version: versionString(), Log: stderr, Sweep: platforms.Sweep,
		Open: func(ctx context.Context, f *spec.File, name string) (run.Opened, error) {
			return platforms.OpenFile(ctx, f, name, o.platformOptions)
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return exitCode(err)
	}
	defer s.Close()
	fmt.Fprintf(stdout, "run %s: %d scenarios on %s, results in %s\n", s.Meta.ID, len(s.Jobs), s.Meta.Platform, s.Dir)
	tty := false
	if fd, ok := stdout.(interface{ Fd() uintptr }); ok {
		tty = isatty.IsTerminal(fd.Fd())
	}
	if err := s.Hold(); err != nil {
		fmt.Fprintf(stderr, "runner run: %v\n", err)
		return exitUsage
	}
	observers := []run.Observer{run.NewProgress(stdout, tty)}
	var dash *dashboard.Live
	if o.dashboard != "" {
		if dash, err = dashboard.Start(o.dashboard, s.Jobs); err != nil {
			fmt.Fprintf(stderr, "runner run: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "dashboard: %s\n", dash.URL)
		defer dash.Stop()
		observers = append(observers, dash.Observe)
	}
	ran, runErr := run.Execute(ctx, s.Meta, s.Jobs, run.Options{
		Dir: s.Dir, Resume: o.resume.On, Platform: s.Platform, Build: s.Build, SLO: s.Meta.SLO,
		Interval: o.interval, Observers: observers,
	})

	// The report is written whatever happened, from what is on disk.
	if writeReport(s.Dir, stdout, stderr) && dash != nil {
		dash.SetReport(filepath.Join(s.Dir, report.HTMLFile))
	}
	code = exitStatus(ctx, ran, runErr, o, stdout, stderr)
	if dash != nil && !o.dashboardExit {
		serveFinal(ctx, dash, stdout)
	}
	return code
}

// writeReport writes the run's report from what is in dir, and says where;
// false when it could not be written.
func writeReport(dir string, stdout, stderr io.Writer) bool {
	probs, err := report.Write(dir)
	if err != nil {
		fmt.Fprintf(stderr, "runner run: cannot write the report: %v\n", err)
		return false
	}
	for _, pr := range probs {
		fmt.Fprintf(stderr, "runner run: report: %s\n", pr)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "report.md"))
	return true
}

// exitCode is the exit status of an error that ends a command before anything
// runs: 3 when the platform cannot be used, 2 otherwise.
func exitCode(err error) int {
	if errors.Is(err, platform.ErrUnavailable) {
		return exitPlatform
	}
	return exitUsage
}

// exitStatus prints the end of the run and maps it to the exit code.
func exitStatus(ctx context.Context, ran result.Run, runErr error, o runOptions, stdout, stderr io.Writer) int {
	ending, advice, verdict := run.End(ran, runErr, run.EndOptions{File: o.file, Out: o.out, Interrupted: ctx.Err() != nil, IgnoreSLO: o.ignoreSLO})
	if advice != "" {
		fmt.Fprintf(stderr, "runner run: %s\n", advice)
	}
	if verdict != "" {
		fmt.Fprintln(stdout, verdict)
	}
	return map[run.Ending]int{run.EndedOK: exitOK, run.EndedMissed: exitSLO, run.EndedPlatform: exitPlatform, run.EndedInterrupted: exitInterrupted}[ending]
}

// serveFinal keeps serving the run's final state until ctx is done (Ctrl-C).
func serveFinal(ctx context.Context, d *dashboard.Live, stdout io.Writer) {
	if ctx.Err() != nil {
		return
	}
	fmt.Fprintf(stdout, "dashboard: the run is over; serving its final state at %s until Ctrl-C (--dashboard-exit stops at once)\n", d.URL)
	<-ctx.Done()
}
