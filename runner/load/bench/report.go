package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/infergrid/runner/runner/result"
)

type options struct {
	self, vegeta, wrk, hey string
	runs                   int
	duration               time.Duration
	users                  int
	memUsers               int
	memSpawn               float64
	memThinkMin            time.Duration
	memThinkMax            time.Duration
	memDuration            time.Duration
	memSlow                time.Duration
	openDuration           time.Duration
	cpuLoad, cpuServer     string
	out                    string
}

// measurement is one tool's run at maximum throughput.
type measurement struct {
	tool      string
	requests  uint64
	okRPS     float64 // successful requests per second
	cpu       time.Duration
	maxRSS    int64
	serverCPU float64 // share of one core
}

func report(args []string) error {
	o, err := reportOptions(args)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.self = self
	if o.out == "" {
		if o.out, err = os.MkdirTemp("", "bench-load-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	return o.report()
}

// reportOptions parses the report command's flags.
func reportOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&o.vegeta, "vegeta", "vegeta", "vegeta CLI binary")
	fs.StringVar(&o.wrk, "wrk", "wrk", "wrk binary (skipped when missing)")
	fs.StringVar(&o.hey, "hey", "hey", "hey binary (skipped when missing)")
	fs.IntVar(&o.runs, "runs", 3, "runs of every measurement; the report shows medians")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each throughput run")
	fs.IntVar(&o.users, "users", 50, "concurrency of the throughput runs")
	fs.IntVar(&o.memUsers, "mem-users", 10000, "users of the memory run")
	fs.Float64Var(&o.memSpawn, "mem-spawn", 2000, "spawn rate of the memory run")
	fs.DurationVar(&o.memThinkMin, "mem-think-min", time.Second, "minimum think time of the memory run")
	fs.DurationVar(&o.memThinkMax, "mem-think-max", 3*time.Second, "maximum think time of the memory run")
	fs.DurationVar(&o.memDuration, "mem-duration", 15*time.Second, "duration of the memory run")
	fs.DurationVar(&o.memSlow, "mem-slow", 5*time.Second, "also run the memory run against a server this slow, "+
		"so every user is in flight (0: skip)")
	fs.DurationVar(&o.openDuration, "open-duration", 5*time.Second, "duration of each open-model run (0: skip them)")
	fs.StringVar(&o.cpuLoad, "cpu-load", "0", "CPU list for the load generators (taskset -c)")
	fs.StringVar(&o.cpuServer, "cpu-server", "1", "CPU list for the server (taskset -c)")
	fs.StringVar(&o.out, "out", "", "directory for report.md and raw files (default: a new temp dir)")
	return o, fs.Parse(args)
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// report runs every measurement and writes report.md.
func (o options) report() error {
	srv, url, err := startServer(o, 0)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	logf("server %s on CPU %s (pid %d), generators on CPU %s, results in %s", url, o.cpuServer, srv.Process.Pid, o.cpuLoad, o.out)

	loadBefore := loadavg()
	tools := []string{"runner", o.vegeta}
	for _, t := range []string{o.wrk, o.hey} {
		if _, err := exec.LookPath(t); err == nil {
			tools = append(tools, t)
		} else {
			logf("skipping %s: %v", t, err)
		}
	}
	ms, err := o.throughput(tools, url, srv.Process.Pid)
	if err != nil {
		return err
	}
	openMD, err := o.openSection(url, ms, len(tools))
	if err != nil {
		return err
	}
	mems, err := o.memoryRuns(url)
	if err != nil {
		return err
	}
	md := markdown(o, tools, ms, mems, loadBefore, loadavg()) + openMD
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	logf("report written to %s", filepath.Join(o.out, "report.md"))
	return nil
}

// throughput runs every tool at maximum throughput, interleaved within each
// round so drifting noise hits every tool alike.
func (o options) throughput(tools []string, url string, serverPID int) ([]measurement, error) {
	var ms []measurement
	for run := 1; run <= o.runs; run++ {
		for _, tool := range tools {
			m, err := measure(o, tool, url, serverPID)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", tool, run, err)
			}
			logf("run %d %-7s %9.0f ok/s %6.3f CPU-s/10k req  rss %4.0f MiB  server %3.0f%% of a core",
				run, m.tool, m.okRPS, perTenK(m), float64(m.maxRSS)/(1<<20), 100*m.serverCPU)
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// openSection runs the open-model measurements and returns their Markdown.
func (o options) openSection(url string, ms []measurement, tools int) (string, error) {
	if o.openDuration <= 0 {
		return "", nil
	}
	wrkMax, vsWrk, cpuVsWrk := versusWrk(ms, tools)
	rates := openRates(wrkMax)
	runs, err := openRuns(o, url, rates)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	openMarkdown(func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }, o, openMedians(runs, rates), rates, wrkMax, vsWrk, cpuVsWrk)
	return b.String(), nil
}

// memoryRuns runs the many-users memory runs against url and, with memSlow,
// against a slow server too.
func (o options) memoryRuns(url string) ([]memRun, error) {
	type server struct {
		delay time.Duration
		url   string
	}
	servers := []server{{0, url}}
	if o.memSlow > 0 {
		slow, slowURL, err := startServer(o, o.memSlow)
		if err != nil {
			return nil, err
		}
		defer func() { _ = slow.Process.Kill(); _ = slow.Wait() }()
		servers = append(servers, server{o.memSlow, slowURL})
	}
	var mems []memRun
	for run := 1; run <= o.runs; run++ {
		for _, sv := range servers {
			m, err := memory(o, sv.url)
			if err != nil {
				return nil, fmt.Errorf("memory run %d: %w", run, err)
			}
			m.delay = sv.delay
			logf("memory run %d (server delay %s): %d users, %d requests, %.0f/s, %d in flight, peak RSS %.0f MiB",
				run, sv.delay, o.memUsers, m.load.Requests, m.load.RateRPS, m.load.PeakInFlight, float64(m.maxRSS)/(1<<20))
			mems = append(mems, m)
		}
	}
	return mems, nil
}

// versusWrk returns wrk's median throughput, the runner's median throughput
// over wrk's in the same round, and its CPU per request over wrk's (0s when wrk
// did not run).
func versusWrk(ms []measurement, tools int) (wrkMax, ratio, cpu float64) {
	var w, rs, cs []float64
	for i := 0; i+tools <= len(ms); i += tools {
		var run, wrk *measurement
		for j := range ms[i : i+tools] {
			switch ms[i+j].tool {
			case "runner":
				run = &ms[i+j]
			case "wrk":
				wrk = &ms[i+j]
			}
		}
		if run == nil || wrk == nil || wrk.okRPS == 0 || perTenK(*wrk) == 0 {
			continue
		}
		w = append(w, wrk.okRPS)
		rs, cs = append(rs, run.okRPS/wrk.okRPS), append(cs, perTenK(*run)/perTenK(*wrk))
	}
	return median(w), median(rs), median(cs)
}

func perTenK(m measurement) float64 {
	if m.requests == 0 {
		return 0
	}
	return m.cpu.Seconds() / float64(m.requests) * 1e4
}

// child runs a tool pinned to cpus and returns its stdout and resource use.
func child(cpus string, name string, args ...string) ([]byte, *syscall.Rusage, error) {
	cmd := exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %s", name, err, lastLines(errb.String(), 5))
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return nil, nil, errors.New("no resource usage of the child")
	}
	return out.Bytes(), ru, nil
}

func cpuOf(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measure(o options, tool, url string, serverPID int) (measurement, error) {
	m := measurement{tool: filepath.Base(tool)}
	secs := strconv.Itoa(int(o.duration.Seconds()))
	conc := strconv.Itoa(o.users)
	target := url + "/predict"
	s0, wall0 := procCPU(serverPID), time.Now()
	var (
		out []byte
		ru  *syscall.Rusage
		err error
	)
	switch m.tool {
	case "runner":
		out, ru, err = child(o.cpuLoad, o.self, "load", "-url", url, "-users", conc,
			"-duration", o.duration.String(), "-out", filepath.Join(o.out, "runner.gob"))
		if err == nil {
			var l result.Load
			if err = json.Unmarshal(out, &l); err == nil {
				m.requests, m.okRPS = l.Requests, l.ThroughputRPS
			}
		}
	case "vegeta":
		targets := filepath.Join(o.out, "targets.txt")
		if err = os.WriteFile(targets, []byte("GET "+target+"\n"), 0o644); err != nil {
			break
		}
		raw := filepath.Join(o.out, "vegeta.gob")
		out, ru, err = child(o.cpuLoad, tool, "attack", "-rate=0", "-max-workers="+conc,
			"-duration="+o.duration.String(), "-targets="+targets, "-output="+raw)
		if err == nil {
			var rep []byte
			if rep, err = exec.Command(tool, "report", "-type=json", raw).Output(); err == nil {
				var v struct {
					Requests   uint64  `json:"requests"`
					Throughput float64 `json:"throughput"`
				}
				if err = json.Unmarshal(rep, &v); err == nil {
					m.requests, m.okRPS = v.Requests, v.Throughput
				}
			}
		}
	case "wrk":
		out, ru, err = child(o.cpuLoad, tool, "-t1", "-c"+conc, "-d"+secs+"s", target)
		if err == nil {
			m.requests, m.okRPS, err = parseWrk(string(out))
		}
	case "hey":
		out, ru, err = child(o.cpuLoad, tool, "-z", secs+"s", "-c", conc, target)
		if err == nil {
			m.requests, m.okRPS, err = parseHey(string(out))
		}
	default:
		return m, fmt.Errorf("unknown tool %q", tool)
	}
	if err != nil {
		return m, err
	}
	m.cpu, m.maxRSS = cpuOf(ru), ru.Maxrss<<10
	m.serverCPU = (procCPU(serverPID) - s0).Seconds() / time.Since(wall0).Seconds()
	return m, nil
}

var (
	wrkTotal  = regexp.MustCompile(`(\d+) requests in ([\d.]+)s`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	heyRPS    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	heyCodes  = regexp.MustCompile(`\[(\d+)\]\s+(\d+) responses`)
	heyTotal  = regexp.MustCompile(`Total:\s+([\d.]+) secs`)
)

func parseWrk(out string) (uint64, float64, error) {
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("cannot read wrk's output: %s", out)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	secs, _ := strconv.ParseFloat(m[2], 64)
	bad := uint64(0)
	if b := wrkNon2xx.FindStringSubmatch(out); b != nil {
		bad, _ = strconv.ParseUint(b[1], 10, 64)
	}
	return n, float64(n-bad) / secs, nil
}

func parseHey(out string) (uint64, float64, error) {
	t := heyTotal.FindStringSubmatch(out)
	if t == nil || heyRPS.FindStringSubmatch(out) == nil {
		return 0, 0, fmt.Errorf("cannot read hey's output: %s", out)
	}
	secs, _ := strconv.ParseFloat(t[1], 64)
	var n, ok uint64
	for _, c := range heyCodes.FindAllStringSubmatch(out, -1) {
		k, _ := strconv.ParseUint(c[2], 10, 64)
		n += k
		if c[1] >= "200" && c[1] < "400" {
			ok += k
		}
	}
	return n, float64(ok) / secs, nil
}

// memRun is one run of the runner with many users thinking.
type memRun struct {
	delay  time.Duration // of the server
	load   result.Load
	maxRSS int64
	cpu    time.Duration
}

func memory(o options, url string) (memRun, error) {
	out, ru, err := child(o.cpuLoad, o.self, "load", "-url", url,
		"-users", strconv.Itoa(o.memUsers), "-spawn", strconv.FormatFloat(o.memSpawn, 'f', -1, 64),
		"-think-min", o.memThinkMin.String(), "-think-max", o.memThinkMax.String(),
		"-duration", o.memDuration.String(), "-out", filepath.Join(o.out, "memory.gob"))
	if err != nil {
		return memRun{}, err
	}
	var m memRun
	if err := json.Unmarshal(out, &m.load); err != nil {
		return m, err
	}
	m.maxRSS, m.cpu = ru.Maxrss<<10, cpuOf(ru)
	return m, nil
}

// procCPU returns the CPU time of process pid from /proc (clock ticks of 10ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func markdown(o options, tools []string, ms []measurement, mems []memRun, loadBefore, loadAfter string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	host, _ := os.Hostname()
	p("# Load engine benchmark")
	p("")
	p("%s on %s: %d CPUs, %s, %s. Load average before %s, after %s.",
		time.Now().UTC().Format(time.RFC3339), host, runtime.NumCPU(), runtime.Version(), kernel(), loadBefore, loadAfter)
	p("Server (static Go HTTP handler, %d-byte JSON answer) on CPU %s; each generator on CPU %s.",
		len(body), o.cpuServer, o.cpuLoad)
	p("Figures are medians of %d runs; tools interleaved within each run.", o.runs)
	p("")
	p("## Maximum throughput: %d concurrent users/connections, zero think time, %s", o.users, o.duration)
	p("")
	p("runner: closed model (`load.Run`, raw results written); vegeta: `attack -rate=0 -max-workers=%d` "+
		"(raw results written); wrk: `-t1 -c%d`; hey: `-c %d`.", o.users, o.users, o.users)
	p("")
	p("| tool | successful req/s | requests per generator CPU-second | CPU-s per 10k requests | peak RSS | server CPU | req/s vs vegeta (paired) | CPU per request vs vegeta |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	type agg struct{ rps, cpu, rss, srv, ratio float64 }
	med := map[string]agg{}
	for _, t := range tools {
		name := filepath.Base(t)
		var rps, cpu, rss, srv, ratio []float64
		for i, m := range ms {
			if m.tool != name {
				continue
			}
			rps, cpu = append(rps, m.okRPS), append(cpu, perTenK(m))
			rss, srv = append(rss, float64(m.maxRSS)), append(srv, m.serverCPU)
			// vegeta's run of the same round, measured next to this one
			round := i / len(tools)
			for _, v := range ms[round*len(tools) : (round+1)*len(tools)] {
				if v.tool == "vegeta" && v.okRPS > 0 {
					ratio = append(ratio, m.okRPS/v.okRPS)
				}
			}
		}
		med[name] = agg{median(rps), median(cpu), median(rss), median(srv), median(ratio)}
	}
	v := med["vegeta"]
	for _, t := range tools {
		name := filepath.Base(t)
		a := med[name]
		p("| %s | %.0f | %.0f | %.3f | %.0f MiB | %.0f%% | %.2fx | %.2fx |",
			name, a.rps, 1e4/a.cpu, a.cpu, a.rss/(1<<20), 100*a.srv, a.ratio, a.cpu/v.cpu)
	}
	p("")
	p("\"Paired\": the median over rounds of the tool's throughput divided by vegeta's in the same round, " +
		"which cancels slow drifts of a shared machine. Requests per generator CPU-second is the throughput " +
		"a generator would reach with a core of its own and a server that keeps up.")
	p("")
	r := med["runner"]
	p("Goal: runner >= 0.90x vegeta's throughput: **%s** (%.2fx paired; %.2fx requests per CPU-second).",
		pass(r.ratio >= 0.9), r.ratio, v.cpu/r.cpu)
	p("")
	p("## Memory: %d closed-model users, spawn %g/s, think %s..%s, %s", o.memUsers, o.memSpawn, o.memThinkMin, o.memThinkMax, o.memDuration)
	p("")
	p("The slow server answers after a delay, so every user ends up in flight: the worst case.")
	p("")
	p("| server | requests | req/s | peak in flight | peak RSS (kernel, whole process) | CPU-s |")
	p("|---|---:|---:|---:|---:|---:|")
	var rss []float64
	for _, m := range mems {
		server := "fast"
		if m.delay > 0 {
			server = "answers after " + m.delay.String()
		}
		p("| %s | %d | %.0f | %d | %.0f MiB | %.2f |", server, m.load.Requests, m.load.RateRPS, m.load.PeakInFlight,
			float64(m.maxRSS)/(1<<20), m.cpu.Seconds())
		rss = append(rss, float64(m.maxRSS))
	}
	p("")
	p("Goal: %d users under 300 MB: **%s** (largest peak RSS %.0f MiB, median %.0f MiB).",
		o.memUsers, pass(slices.Max(rss) < 300e6), slices.Max(rss)/(1<<20), median(rss)/(1<<20))
	return b.String()
}

func pass(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// startServer starts the static server pinned to the server CPUs, answering
// after delay, and returns it with its URL.
func startServer(o options, delay time.Duration) (*exec.Cmd, string, error) {
	srv := exec.Command("taskset", "-c", o.cpuServer, o.self, "serve", "-delay", delay.String())
	srv.Stderr = os.Stderr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := srv.Start(); err != nil {
		return nil, "", fmt.Errorf("cannot start the server: %w", err)
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		return nil, "", fmt.Errorf("server did not print its address: %w", err)
	}
	return srv, "http://" + strings.TrimSpace(addr), nil
}
