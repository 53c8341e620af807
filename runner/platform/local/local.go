package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/result"
)

// Environment variables every replica gets. PORT and ADDR say where to listen;
// the two INFERGRID_RUNNER_* variables tag the process as the runner's, so a leak
// check (Processes) finds it.
const (
	EnvPort    = "PORT"
	EnvAddr    = "ADDR"
	EnvRun     = "INFERGRID_RUNNER_RUN"
	EnvProject = "INFERGRID_RUNNER_PROJECT"
)

// Options configure the local platform.
type Options struct {
	// CgroupRoot is where cgroup file systems are mounted; empty means
	// /sys/fs/cgroup.
	CgroupRoot string
	// NoCgroups applies limits as GOMAXPROCS/GOMEMLIMIT hints only, even where
	// cgroups could enforce them.
	NoCgroups bool
	// StopTimeout is how long Down waits after SIGTERM before SIGKILL; 0 means 5s.
	StopTimeout time.Duration
}

// Platform runs each replica as a child process on loopback. Use New.
type Platform struct {
	opts Options

	mu       sync.Mutex
	detected bool
	cg       *cgroupHost
	cgWhy    string
	tmp      string
	binaries map[platform.Build]string
	binary   string
	// proxyBinary is the load balancer (Build.ProxyDir), when a run needs one.
	proxyBinary string
}

var _ platform.Platform = (*Platform)(nil)

// New returns a local platform; cgroups are probed on first use.
func New(opts Options) *Platform {
	if opts.CgroupRoot == "" {
		opts.CgroupRoot = "/sys/fs/cgroup"
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 5 * time.Second
	}
	return &Platform{opts: opts, binaries: map[platform.Build]string{}}
}

// Name is "local".
func (p *Platform) Name() string { return "local" }

// cgroups probes once whether limits can be enforced.
func (p *Platform) cgroups() (*cgroupHost, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.detected {
		p.detected = true
		if p.opts.NoCgroups {
			p.cgWhy = "cgroups disabled by option"
		} else {
			self, err := os.ReadFile("/proc/self/cgroup")
			if err == nil {
				p.cg, err = detectCgroups(p.opts.CgroupRoot, string(self), fmt.Sprintf("%s%d", cgroupPrefix, os.Getpid()))
			}
			if err != nil {
				p.cgWhy = err.Error()
			}
		}
	}
	return p.cg, p.cgWhy
}

// Prepare compiles b.Dir, a Go main package, once per Build; the binary is what
// replicas run unless a Spec gives a Command. With b.Dir empty there is nothing to
// build (Spec.Command must then be set): a run whose service has a command
// prepares no Dir. A Dockerfile cannot run locally.
func (p *Platform) Prepare(ctx context.Context, b platform.Build) error {
	p.cgroups()
	if b.ProxyDir != "" {
		pb := platform.Build{Dir: b.ProxyDir}
		p.mu.Lock()
		service := p.binary
		p.mu.Unlock()
		if err := p.Prepare(ctx, pb); err != nil {
			return fmt.Errorf("cannot build the load balancer: %w", err)
		}
		p.mu.Lock()
		p.proxyBinary, p.binary = p.binaries[pb], service
		p.mu.Unlock()
		b.ProxyDir, b.ProxyImage = "", ""
	}
	if b.Dir == "" {
		return nil
	}
	p.mu.Lock()
	if bin, ok := p.binaries[b]; ok {
		p.binary = bin
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	if !platform.IsGoMain(b.Dir) {
		return fmt.Errorf("local platform cannot build %s: it is not a Go main package, and the local platform runs processes, not images; give service.command, the command line that starts the service (nothing is built then), or use platform compose", b.Dir)
	}
	p.mu.Lock()
	if p.tmp == "" {
		tmp, err := os.MkdirTemp("", "runner-local-")
		if err != nil {
			p.mu.Unlock()
			return err
		}
		p.tmp = tmp
	}
	out := filepath.Join(p.tmp, fmt.Sprintf("app%d", len(p.binaries)+1))
	p.mu.Unlock()
	if err := platform.BuildGo(ctx, b.Dir, out, "", ""); err != nil {
		return err
	}
	p.mu.Lock()
	p.binaries[b] = out
	p.binary = out
	p.mu.Unlock()
	return nil
}

// Info says whether limits are enforced and how.
func (p *Platform) Info(ctx context.Context) platform.Info {
	cg, why := p.cgroups()
	if cg != nil {
		return platform.Info{Notes: []string{"local processes; CPU and memory limits enforced with " + cg.String()}}
	}
	return platform.Info{Notes: []string{"local processes; CPU and memory limits are advisory (GOMAXPROCS and GOMEMLIMIT, which a Go service follows and any other ignores) because " + why}}
}

// Close removes the built binaries and this process's cgroup parent.
func (p *Platform) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.tmp != "" {
		errs = append(errs, os.RemoveAll(p.tmp))
		p.tmp = ""
		clear(p.binaries)
	}
	if p.cg != nil {
		errs = append(errs, p.cg.close())
		p.cg, p.detected = nil, false
	}
	return errors.Join(errs...)
}

// Up starts s.Replicas processes, each on a free loopback port, and waits until
// every one answers s.Health, as platform.Up does it with the Stack as its
// driver. The command is s.Command with "{{.Port}}" replaced by the port, else
// the binary Prepare built; it also gets PORT, ADDR (127.0.0.1:PORT) and s.Env.
// Limits are enforced with cgroups where possible, else passed as GOMAXPROCS and
// GOMEMLIMIT and the stack is Advisory. A replica's output goes to
// s.Dir/NAME.log when s.Dir is set.
func (p *Platform) Up(ctx context.Context, s platform.Spec) (platform.Stack, error) {
	cg, _ := p.cgroups()
	p.mu.Lock()
	st := &Stack{spec: s, bin: p.binary, proxyBin: p.proxyBinary, cg: cg, stopTimeout: p.opts.StopTimeout, prevCPU: map[int]cpuReading{}}
	p.mu.Unlock()
	if _, err := platform.Up(ctx, s, st); err != nil {
		return nil, err
	}
	_, _ = st.Sample(ctx) // primes the CPU counters
	return st, nil
}

// Kind is local's: it runs processes, not a compose file.
func (st *Stack) Kind() platform.Kind { return platform.Kind{Name: "local"} }

// Open checks that there is something to run, and a balancer when the stack
// needs one, and creates the scenario's folder (platform.Driver).
func (st *Stack) Open(context.Context) error {
	s := st.spec
	if len(s.Command) == 0 && st.bin == "" {
		return fmt.Errorf("local: nothing to run for %s: no command and no Go main package prepared", s.Project)
	}
	if s.Balancer != "" && st.proxyBin == "" {
		return fmt.Errorf("local: %s needs a load balancer, and none was prepared (Build.ProxyDir)", s.Project)
	}
	st.advisory = st.cg == nil && (s.CPUs > 0 || s.MemoryBytes > 0)
	if s.Dir != "" {
		return os.MkdirAll(s.Dir, 0o755)
	}
	return nil
}

// Start starts the replicas' processes (platform.Driver).
func (st *Stack) Start(context.Context) error {
	for i := range st.spec.Replicas {
		r, err := st.start(st.cg, st.bin, i+1)
		if err != nil {
			return err
		}
		st.mu.Lock() // Sample may read them meanwhile
		st.replicas = append(st.replicas, r)
		st.mu.Unlock()
	}
	return nil
}

// Replicas returns the processes Start started, each with its port
// (platform.Driver).
func (st *Stack) Replicas(context.Context, time.Time) (platform.Group, error) {
	var g platform.Group
	for _, r := range st.replicas {
		g.Members = append(g.Members, platform.Member{Name: r.name, ID: r.name})
		g.Endpoints = append(g.Endpoints, platform.Endpoint{Name: r.name, URL: fmt.Sprintf("http://127.0.0.1:%d", r.port)})
	}
	return g, nil
}

// CheckLimits has nothing to check: the stack applies the limits itself
// (platform.Driver).
func (st *Stack) CheckLimits(context.Context, []platform.Member, float64, int64) error { return nil }

// Exited reports whether m's process has exited, and how (platform.Driver).
func (st *Stack) Exited(_ context.Context, m platform.Member) (bool, string) {
	r := st.replica(m)
	if r == nil {
		return false, ""
	}
	select {
	case <-r.done:
		return true, r.how()
	default:
		return false, ""
	}
}

// Logs are m's last 20 lines of output (platform.Driver).
func (st *Stack) Logs(_ context.Context, m platform.Member) string {
	if r := st.replica(m); r != nil {
		return r.log.tail()
	}
	return ""
}

// Record adds ev to the stack's events (platform.Driver).
func (st *Stack) Record(ev result.Event) { st.addEvent(ev) }

// Lost returns err: local processes do not depend on a daemon
// (platform.Driver).
func (st *Stack) Lost(err error) error { return err }

// replica is the process of m, nil if none.
func (st *Stack) replica(m platform.Member) *replica {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.replicas {
		if r.name == m.ID {
			return r
		}
	}
	return nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// replica is one child process, with the processes it starts.
type replica struct {
	name string
	port int
	cmd  *exec.Cmd
	cg   *cgroup
	log  *logSink
	done chan struct{}
	// set before done is closed
	state *os.ProcessState
	werr  error
	// oomKills is how many OOM kills of its cgroup were recorded as events
	// (guarded by Stack.mu).
	oomKills int64
}

func (r *replica) how() string {
	if r.state == nil {
		return fmt.Sprintf("wait failed: %v", r.werr)
	}
	if ws, ok := r.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit code %d", r.state.ExitCode())
}

func (st *Stack) start(cg *cgroupHost, bin string, i int) (*replica, error) {
	s := st.spec
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("no free port: %w", err)
	}
	r := &replica{name: fmt.Sprintf("%s-%d", s.Project, i), port: port, done: make(chan struct{})}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	argv := []string{bin}
	if len(s.Command) > 0 {
		if argv, err = platform.ExpandCommand(s.Command, platform.CommandVars{Port: port, Addr: addr, Replica: i}); err != nil {
			return nil, fmt.Errorf("command of replica %s: %w", r.name, err)
		}
	}
	env := os.Environ()
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, EnvPort+"="+strconv.Itoa(port), EnvAddr+"="+addr,
		EnvRun+"="+s.RunID, EnvProject+"="+s.Project)
	if s.CPUs > 0 {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", int(math.Ceil(s.CPUs))))
	}
	if s.MemoryBytes > 0 && cg == nil {
		env = append(env, fmt.Sprintf("GOMEMLIMIT=%d", s.MemoryBytes))
	}
	return st.launch(cg, r, argv, env, s.CPUs, s.MemoryBytes)
}

// launch starts r's process with argv and env in the command's folder, in its own
// process group and, with cg, in its own cgroup limited to cpus and memoryBytes.
func (st *Stack) launch(cg *cgroupHost, r *replica, argv, env []string, cpus float64, memoryBytes int64) (*replica, error) {
	s := st.spec
	dir := cmp.Or(s.WorkDir, s.Dir)
	prog, err := findCommand(argv[0], dir, env)
	if err != nil {
		return nil, fmt.Errorf("cannot start replica %s (%s): %w", r.name, argv[0], err)
	}
	argv = append([]string{prog}, argv[1:]...)
	var logFile io.WriteCloser
	if s.Dir != "" {
		f, err := os.Create(filepath.Join(s.Dir, r.name+".log"))
		if err != nil {
			return nil, err
		}
		logFile = f
	}
	r.log = newLogSink(logFile, 20)
	if cg != nil {
		if r.cg, err = cg.create(r.name, cpus, memoryBytes); err != nil {
			r.log.Close()
			return nil, err
		}
	}
	if err := startIn(r, argv, env, dir); err != nil {
		r.log.Close()
		if r.cg != nil {
			r.cg.remove()
		}
		return nil, fmt.Errorf("cannot start replica %s (%s): %w", r.name, argv[0], err)
	}
	st.addEvent(result.Event{Time: time.Now(), Container: r.name, Kind: result.EventStart, Message: fmt.Sprintf("pid %d, port %d", r.cmd.Process.Pid, r.port)})
	go func() {
		err := r.cmd.Wait()
		r.state, r.werr = r.cmd.ProcessState, err
		st.exited(r)
		close(r.done)
	}()
	return r, nil
}

// exited records the exit of a replica that was not being stopped.
func (st *Stack) exited(r *replica) {
	st.mu.Lock()
	stopping := st.stopping
	st.mu.Unlock()
	if stopping {
		return
	}
	now := time.Now()
	st.recordOOM(r, now, "out of memory: the kernel killed the process (cgroup memory limit)")
	ev := result.Event{Time: now, Container: r.name, Kind: result.EventDie, Message: r.how()}
	if r.state != nil {
		code := r.state.ExitCode()
		if ws, ok := r.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal()) // as Docker reports it
		}
		ev.ExitCode = &code
	}
	st.addEvent(ev)
}

// recordOOM adds an oom event, saying msg, when r's cgroup counts OOM kills not
// yet recorded: its main process's, or a child's (a worker it started).
func (st *Stack) recordOOM(r *replica, now time.Time, msg string) {
	if r.cg == nil {
		return
	}
	n := r.cg.oomKills()
	st.mu.Lock()
	defer st.mu.Unlock()
	if n <= r.oomKills {
		return
	}
	r.oomKills = n
	st.events = append(st.events, result.Event{Time: now, Container: r.name, Kind: result.EventOOM, Message: msg})
}

type cpuReading struct {
	at  time.Time
	cpu time.Duration
}

// Stack is a set of running replica processes. It is platform.Up's driver
// while it comes up.
type Stack struct {
	platform.Base
	spec platform.Spec
	// bin and proxyBin are the service's and the balancer's binaries Prepare
	// built; cg the cgroups that enforce limits, nil when they cannot.
	bin, proxyBin string
	cg            *cgroupHost
	advisory      bool
	stopTimeout   time.Duration
	replicas      []*replica
	// balancer is the load balancer process (balancer: proxy), also in replicas
	// so that it is sampled and stopped; nil without one.
	balancer *replica

	mu       sync.Mutex
	events   []result.Event
	stopping bool
	down     bool
	prevCPU  map[int]cpuReading
}

var _ platform.Driver = (*Stack)(nil)

func (st *Stack) addEvent(ev result.Event) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.events = append(st.events, ev)
}

// Events returns starts, exits (with code) and OOM kills since Up.
func (st *Stack) Events() []result.Event {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]result.Event(nil), st.events...)
}

// Advisory is true when limits were asked for but cgroups could not enforce them.
func (st *Stack) Advisory() bool { return st.advisory }

// PIDs returns the replicas' process IDs.
func (st *Stack) PIDs() []int {
	out := make([]int, len(st.replicas))
	for i, r := range st.replicas {
		out[i] = r.cmd.Process.Pid
	}
	return out
}

// Sample reads every running replica's CPU (from /proc, as a % of one core),
// memory (the cgroup's usage without inactive file cache, else the RSS), limit (the
// cgroup's, else the advisory limit) and threads. Each figure covers the replica's
// whole tree: its main process and every process it started (the sum of their
// CPU, RSS and threads; the cgroup holds them all). Network counters are not kept
// per process and stay 0. An OOM kill of a process of the tree is an event.
// Samples carry the replica or balancer role; Up hands the stack to
// Spec.Started once every replica started, before the health wait.
func (st *Stack) Sample(ctx context.Context) ([]result.Sample, error) {
	now := time.Now()
	tab, err := readProcTable("/proc")
	if err != nil {
		return nil, fmt.Errorf("cannot read the process table: %w", err)
	}
	st.mu.Lock()
	replicas, balancer := slices.Clone(st.replicas), st.balancer
	st.mu.Unlock()
	var out []result.Sample
	var errs []error
	for _, r := range replicas {
		select {
		case <-r.done:
			continue
		default:
		}
		pid := r.cmd.Process.Pid
		if _, ok := tab.byPID[pid]; !ok {
			select {
			case <-r.done: // exited meanwhile
			default:
				errs = append(errs, fmt.Errorf("%s: process %d is not in /proc", r.name, pid))
			}
			continue
		}
		st.recordOOM(r, now, "out of memory: the kernel killed a process of the replica (cgroup memory limit)")
		out = append(out, st.sample(r, r == balancer, now, tab.tree(pid, r.cgroupProcs())))
	}
	return out, errors.Join(errs...)
}

// sample sums the readings of r's processes; balancer says r is the balancer.
func (st *Stack) sample(r *replica, balancer bool, now time.Time, tree []procStat) result.Sample {
	x := result.Sample{Time: now, Container: r.name, MemLimitBytes: st.spec.MemoryBytes, Role: result.RoleReplica}
	if balancer {
		x.MemLimitBytes, x.Role = st.spec.BalancerMemoryBytes, result.RoleBalancer
	}
	var cpu time.Duration
	for _, p := range tree {
		cpu += p.CPU
		x.MemBytes += p.RSSBytes
		x.PIDs += p.Threads
	}
	if r.cg != nil {
		if usage, limit, err := r.cg.memory(); err == nil {
			x.MemBytes, x.MemLimitBytes = usage, limit
		}
	}
	pid := r.cmd.Process.Pid
	st.mu.Lock()
	prev, ok := st.prevCPU[pid]
	st.prevCPU[pid] = cpuReading{at: now, cpu: cpu}
	st.mu.Unlock()
	// A child reaped by someone else than the tree (its parent died first) takes
	// its CPU time with it: the sum may drop, which is no negative use.
	if ok && now.After(prev.at) && cpu > prev.cpu {
		x.CPUPct = 100 * float64(cpu-prev.cpu) / float64(now.Sub(prev.at))
	}
	return x
}

// cgroupProcs lists the processes in r's cgroup; none without one.
func (r *replica) cgroupProcs() []int {
	if r.cg == nil {
		return nil
	}
	return r.cg.procs()
}

// Down stops every replica and every process it started: SIGTERM to its process
// group and to the processes of its tree that left the group, SIGKILL to all of
// them after the stop timeout (or when ctx ends); then, once the main process
// has exited, SIGKILL to whatever of the tree is left, until nothing is, and it
// removes the cgroups. Calling it again after it succeeded does nothing.
func (st *Stack) Down(ctx context.Context) error {
	st.mu.Lock()
	if st.down {
		st.mu.Unlock()
		return nil
	}
	st.stopping = true
	st.mu.Unlock()
	// The tree is read before the signals: a child whose parent exits is
	// reparented, and only its PID (with its start time) still names it.
	trees := make([][]procStat, len(st.replicas))
	if tab, err := readProcTable("/proc"); err == nil {
		for i, r := range st.replicas {
			trees[i] = tab.tree(r.cmd.Process.Pid, r.cgroupProcs())
		}
	}
	for i, r := range st.replicas {
		signalTree(r, trees[i], syscall.SIGTERM)
	}
	timer := time.NewTimer(st.stopTimeout)
	defer timer.Stop()
	var errs []error
	for i, r := range st.replicas {
		select {
		case <-r.done:
		case <-timer.C:
			killAll(st.replicas, trees)
		case <-ctx.Done():
			killAll(st.replicas, trees)
		}
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			errs = append(errs, fmt.Errorf("replica %s (pid %d) did not exit after SIGKILL", r.name, r.cmd.Process.Pid))
			continue
		}
		if err := killRest(r, trees[i], 5*time.Second); err != nil {
			errs = append(errs, err)
		}
		if r.cg != nil {
			if err := r.cg.remove(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := r.log.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("cannot bring down %s: %w", st.spec.Project, errors.Join(errs...))
	}
	st.mu.Lock()
	st.down = true
	st.mu.Unlock()
	return nil
}

func killAll(rs []*replica, trees [][]procStat) {
	for i, r := range rs {
		signalTree(r, trees[i], syscall.SIGKILL)
	}
}

// Processes lists the PIDs of live processes whose environment has key=value,
// e.g. Processes(EnvRun, runID): what a leak check looks for.
func Processes(key, value string) ([]int, error) {
	ps, err := ProcessesWith(key)
	var out []int
	for _, p := range ps {
		if p.Value == value {
			out = append(out, p.PID)
		}
	}
	return out, err
}

// Process is a live process found by ProcessesWith.
type Process struct {
	// PID is its process ID.
	PID int
	// Value is the value of the environment variable looked for.
	Value string
}

// ProcessesWith lists the live processes (zombies skipped) other than this one
// whose environment sets key to a non-empty value, in one scan of /proc:
// ProcessesWith(EnvRun) finds the replicas of every run.
func ProcessesWith(key string) ([]Process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for kv := range strings.SplitSeq(string(data), "\x00") {
			if v, ok := strings.CutPrefix(kv, key+"="); ok {
				if st, err := readProcState("/proc", pid); err == nil && st != "Z" && v != "" {
					out = append(out, Process{PID: pid, Value: v})
				}
				break
			}
		}
	}
	return out, nil
}

func readProcState(procRoot string, pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return "", err
	}
	i := strings.LastIndexByte(string(data), ')')
	f := strings.Fields(string(data[i+1:]))
	if i < 0 || len(f) == 0 {
		return "", errors.New("malformed stat")
	}
	return f[0], nil
}

// logSink keeps a replica's last lines and copies everything to a file.
type logSink struct {
	mu    sync.Mutex
	f     io.WriteCloser
	n     int
	lines []string
	part  string
}

func newLogSink(f io.WriteCloser, n int) *logSink { return &logSink{f: f, n: n} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		if _, err := l.f.Write(p); err != nil {
			l.f = nil // keep the tail even if the file fails
		}
	}
	s := l.part + string(p)
	parts := strings.Split(s, "\n")
	l.part = parts[len(parts)-1]
	l.lines = append(l.lines, parts[:len(parts)-1]...)
	if len(l.lines) > l.n {
		l.lines = l.lines[len(l.lines)-l.n:]
	}
	return len(p), nil
}

func (l *logSink) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if l.part != "" {
		lines = append(lines[:len(lines):len(lines)], l.part)
	}
	if len(lines) > l.n {
		lines = lines[len(lines)-l.n:]
	}
	return strings.Join(lines, "\n")
}

// Close closes the file; it is safe to call twice.
func (l *logSink) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
