package local

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits are enforced by writing cgroup files directly: creating a group, writing
// two or three limit files and a PID, and reading four counters is all the local
// platform needs, for cgroup v1 and v2 alike, and doing it by hand avoids a
// dependency tree (containerd/cgroups pulls in systemd, D-Bus and eBPF packages)
// for a few dozen lines.

// cgroupPrefix starts the name of a runner's parent group, followed by its PID.
const cgroupPrefix = "infergrid-runner-"

const (
	cgroup2Magic = 0x63677270
	cgroup1Magic = 0x27e0eb
)

// cgroupHost is where this process may create cgroups for its replicas.
type cgroupHost struct {
	version int
	// memBase and cpuBase are this run's parent groups; the same directory on v2.
	memBase, cpuBase string
}

// detectCgroups finds a writable cgroup hierarchy under root (normally
// /sys/fs/cgroup) and creates this process's parent group in it. self is the
// content of /proc/self/cgroup. On failure it says why limits cannot be enforced.
func detectCgroups(root, self, name string) (*cgroupHost, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return nil, fmt.Errorf("no cgroup file system at %s: %w", root, err)
	}
	version := 0
	switch {
	case st.Type == cgroup2Magic:
		version = 2
	case isMount(filepath.Join(root, "memory"), cgroup1Magic) && isMount(filepath.Join(root, "cpu"), cgroup1Magic):
		version = 1
	default:
		return nil, fmt.Errorf("%s has neither cgroup v2 nor the cgroup v1 memory and cpu controllers", root)
	}
	return newCgroupHost(version, root, self, name)
}

func isMount(dir string, magic int64) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(dir, &st) == nil && int64(st.Type) == magic
}

// newCgroupHost creates the parent group name for version under root.
func newCgroupHost(version int, root, self, name string) (*cgroupHost, error) {
	h := &cgroupHost{version: version}
	if version == 2 {
		// Our own group holds processes, so (no internal processes) it cannot
		// delegate controllers to children: the parent goes right under the root
		// (as root), else next to our own group (a systemd user delegation).
		var errs []error
		for _, parent := range v2Parents(root, self) {
			base, err := v2Base(parent, name)
			if err == nil {
				h.memBase, h.cpuBase = base, base
				return h, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
	paths := selfPaths(self)
	h.memBase = filepath.Join(root, "memory", paths["memory"], name)
	h.cpuBase = filepath.Join(root, "cpu", paths["cpu"], name)
	removeStale(filepath.Dir(h.memBase))
	removeStale(filepath.Dir(h.cpuBase))
	for _, d := range []string{h.memBase, h.cpuBase} {
		if err := os.Mkdir(d, 0o755); err != nil {
			h.close()
			return nil, fmt.Errorf("cannot create cgroup %s: %w", d, err)
		}
	}
	return h, nil
}

// v2Parents lists where a v2 parent group may go: the root, then the folder that
// holds this process's own group.
func v2Parents(root, self string) []string {
	out := []string{root}
	if own := selfPaths(self)[""]; own != "" && own != "/" {
		if p := filepath.Join(root, filepath.Dir(own)); p != root {
			out = append(out, p)
		}
	}
	return out
}

// v2Base creates parent/name with the memory and cpu controllers enabled for its
// children.
func v2Base(parent, name string) (string, error) {
	removeStale(parent)
	if err := enableControllers(parent); err != nil {
		return "", err
	}
	base := filepath.Join(parent, name)
	if err := os.Mkdir(base, 0o755); err != nil {
		return "", fmt.Errorf("cannot create cgroup %s: %w", base, err)
	}
	if err := enableControllers(base); err != nil {
		rmdir(base)
		return "", err
	}
	return base, nil
}

// enableControllers makes the memory and cpu controllers available to dir's
// children, unless they already are.
func enableControllers(dir string) error {
	file := filepath.Join(dir, "cgroup.subtree_control")
	if cur, err := os.ReadFile(file); err == nil {
		f := strings.Fields(string(cur))
		if slices.Contains(f, "memory") && slices.Contains(f, "cpu") {
			return nil
		}
	}
	if err := os.WriteFile(file, []byte("+memory +cpu"), 0o644); err != nil {
		return fmt.Errorf("cannot enable the memory and cpu controllers in %s: %w", dir, err)
	}
	return nil
}

// removeStale removes the (empty) groups a runner left in dir when it was killed:
// infergrid-runner-PID folders whose process is gone. Only empty groups can be
// removed, so a live run's groups are never touched.
func removeStale(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, cgroupPrefix+"*"))
	for _, m := range matches {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), cgroupPrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue
		}
		entries, _ := os.ReadDir(m)
		for _, e := range entries {
			if e.IsDir() {
				_ = os.Remove(filepath.Join(m, e.Name()))
			}
		}
		_ = os.Remove(m)
	}
}

// selfPaths maps v1 controllers to this process's group paths, from the content of
// /proc/self/cgroup ("4:memory:/a/b", "1:cpu,cpuacct:/").
func selfPaths(self string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(self, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

func (h *cgroupHost) String() string {
	if h.version == 2 {
		return "cgroup v2 at " + h.memBase
	}
	return fmt.Sprintf("cgroup v1 at %s and %s", h.memBase, h.cpuBase)
}

// close removes the parent groups (they must be empty).
func (h *cgroupHost) close() error {
	var errs []error
	for _, d := range uniq(h.memBase, h.cpuBase) {
		if err := rmdir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// rmdir removes a cgroup directory, retrying briefly while the kernel still counts
// exiting tasks in it; a missing directory is fine.
func rmdir(d string) error {
	if d == "" {
		return nil
	}
	var err error
	for range 50 {
		err = os.Remove(d)
		if err == nil || os.IsNotExist(err) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("cannot remove cgroup %s: %w", d, err)
}

// cgroup is one replica's group.
type cgroup struct {
	version        int
	memDir, cpuDir string
}

// create makes a group with the limits (0: unlimited).
func (h *cgroupHost) create(name string, cpus float64, memBytes int64) (*cgroup, error) {
	g := &cgroup{version: h.version, memDir: filepath.Join(h.memBase, name), cpuDir: filepath.Join(h.cpuBase, name)}
	for _, d := range uniq(g.memDir, g.cpuDir) {
		if err := os.Mkdir(d, 0o755); err != nil {
			g.remove()
			return nil, fmt.Errorf("cannot create cgroup %s: %w", d, err)
		}
	}
	const period = 100000
	quota := int64(math.Ceil(cpus * period))
	var writes [][2]string
	if h.version == 2 {
		if memBytes > 0 {
			writes = append(writes, [2]string{filepath.Join(g.memDir, "memory.max"), strconv.FormatInt(memBytes, 10)})
		}
		if cpus > 0 {
			writes = append(writes, [2]string{filepath.Join(g.cpuDir, "cpu.max"), fmt.Sprintf("%d %d", quota, period)})
		}
	} else {
		if memBytes > 0 {
			writes = append(writes, [2]string{filepath.Join(g.memDir, "memory.limit_in_bytes"), strconv.FormatInt(memBytes, 10)})
		}
		if cpus > 0 {
			writes = append(writes,
				[2]string{filepath.Join(g.cpuDir, "cpu.cfs_period_us"), strconv.Itoa(period)},
				[2]string{filepath.Join(g.cpuDir, "cpu.cfs_quota_us"), strconv.FormatInt(quota, 10)})
		}
	}
	for _, w := range writes {
		if err := os.WriteFile(w[0], []byte(w[1]), 0o644); err != nil {
			g.remove()
			return nil, fmt.Errorf("cannot set %s to %s: %w", w[0], w[1], err)
		}
	}
	if h.version == 2 && memBytes > 0 {
		// No swapping around the limit, like Docker's default memory-swap = memory.
		_ = os.WriteFile(filepath.Join(g.memDir, "memory.swap.max"), []byte("0"), 0o644)
	}
	return g, nil
}

// add moves a process into the group.
func (g *cgroup) add(pid int) error {
	for _, d := range uniq(g.memDir, g.cpuDir) {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("cannot move process %d into cgroup %s: %w", pid, d, err)
		}
	}
	return nil
}

// memory returns the group's usage without inactive file cache (as docker stats
// does) and its limit (0: unlimited).
func (g *cgroup) memory() (usage, limit int64, err error) {
	usageFile, limitFile, inactive := "memory.usage_in_bytes", "memory.limit_in_bytes", "total_inactive_file"
	if g.version == 2 {
		usageFile, limitFile, inactive = "memory.current", "memory.max", "inactive_file"
	}
	if usage, err = readInt(filepath.Join(g.memDir, usageFile)); err != nil {
		return 0, 0, err
	}
	if limit, err = readInt(filepath.Join(g.memDir, limitFile)); err != nil || limit >= math.MaxInt64/2 {
		limit = 0 // "max", or v1's huge number: unlimited
	}
	stat, _ := readKeyed(filepath.Join(g.memDir, "memory.stat"))
	if v, ok := stat[inactive]; ok && v < usage {
		usage -= v
	}
	return usage, limit, nil
}

// oomKills returns how many processes the kernel killed in the group for lack of
// memory.
func (g *cgroup) oomKills() int64 {
	file := "memory.oom_control"
	if g.version == 2 {
		file = "memory.events"
	}
	m, _ := readKeyed(filepath.Join(g.memDir, file))
	return m["oom_kill"]
}

// remove deletes the group (its processes must have exited).
func (g *cgroup) remove() error {
	var errs []error
	for _, d := range uniq(g.memDir, g.cpuDir) {
		if err := rmdir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return math.MaxInt64, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// readKeyed parses "key value" lines.
func readKeyed(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}

// procs lists the processes in the group: a replica's main process and every
// descendant, even one that left its process group.
func (g *cgroup) procs() []int {
	data, err := os.ReadFile(filepath.Join(g.memDir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
