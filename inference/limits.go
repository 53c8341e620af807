package inference

import (
	"bufio"
	"bytes"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultMemoryLimitRatio is the share of the cgroup memory limit given to GOMEMLIMIT:
// the rest is headroom for memory the Go runtime does not count (stacks of new
// goroutines before the next GC, the binary, page cache of the container).
const DefaultMemoryLimitRatio = 0.9

// MemoryLimit reports the soft memory limit chosen by [ApplyMemoryLimit].
type MemoryLimit struct {
	// Bytes is the Go runtime's memory limit after the call (math.MaxInt64: none).
	Bytes int64
	// CgroupBytes is the cgroup memory limit found, 0 when there is none.
	CgroupBytes int64
	// Cgroup is the cgroup version found: "v1", "v2", or "" when none is readable.
	Cgroup string
	// Source says where Bytes comes from: "GOMEMLIMIT", "cgroup", or "none".
	Source string
}

// ApplyMemoryLimit sets the Go runtime's soft memory limit to ratio times the memory
// limit of the process's cgroup (v1 or v2), so that a container's garbage is collected
// before the kernel's OOM killer steps in. A GOMEMLIMIT environment variable wins; a
// ratio <= 0, or no cgroup limit, leaves the runtime's limit unchanged.
func ApplyMemoryLimit(ratio float64) MemoryLimit {
	self, _ := os.ReadFile("/proc/self/cgroup")
	lim, version := cgroupMemoryLimit(os.DirFS("/"), self)
	ml := MemoryLimit{CgroupBytes: lim, Cgroup: version, Source: "none"}
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		ml.Source = "GOMEMLIMIT"
	case lim > 0 && ratio > 0:
		debug.SetMemoryLimit(int64(math.Min(float64(lim)*math.Min(ratio, 1), math.MaxInt64)))
		ml.Source = "cgroup"
	}
	ml.Bytes = debug.SetMemoryLimit(-1)
	return ml
}

// CPULimit returns the CPU quota of the process's cgroup in CPUs (0.5 for --cpus 0.5),
// or 0 when there is none. Go 1.25+ sets GOMAXPROCS from it by itself; this is for logs.
func CPULimit() float64 {
	self, _ := os.ReadFile("/proc/self/cgroup")
	return cgroupCPULimit(os.DirFS("/"), self)
}

const unlimitedV1 = 1 << 62 // cgroup v1 reports "no limit" as a huge page-aligned number

// cgroupPaths returns, from /proc/self/cgroup, the unified (v2) path and the path of
// the v1 hierarchy holding controller.
func cgroupPaths(self []byte, controller string) (v2, v1 string) {
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				v1 = parts[2]
			}
		}
	}
	return v2, v1
}

// candidates lists the directories to read a limit from: the process's cgroup and its
// ancestors under mount, and the mount's root (inside a container the mount's root is
// the container's own cgroup while /proc/self/cgroup may show the host's path).
func candidates(mount, cg string) []string {
	var dirs []string
	p := path.Clean("/" + cg)
	for {
		dirs = append(dirs, path.Join(mount, p))
		if p == "/" {
			return dirs
		}
		p = path.Dir(p)
	}
}

func readTrim(fsys fs.FS, name string) (string, bool) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// cgroupMemoryLimit returns the smallest memory limit of the process's cgroup and its
// ancestors (fsys is rooted at /), and the cgroup version.
func cgroupMemoryLimit(fsys fs.FS, self []byte) (int64, string) {
	v2, v1 := cgroupPaths(self, "memory")
	if _, err := fs.Stat(fsys, "sys/fs/cgroup/cgroup.controllers"); err == nil {
		var lim int64
		for _, d := range candidates("sys/fs/cgroup", v2) {
			if s, ok := readTrim(fsys, d+"/memory.max"); ok && s != "max" {
				if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 && (lim == 0 || v < lim) {
					lim = v
				}
			}
		}
		return lim, "v2"
	}
	if _, err := fs.Stat(fsys, "sys/fs/cgroup/memory"); err != nil {
		return 0, ""
	}
	var lim int64
	for _, d := range candidates("sys/fs/cgroup/memory", v1) {
		if s, ok := readTrim(fsys, d+"/memory.limit_in_bytes"); ok {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 && v < unlimitedV1 && (lim == 0 || v < lim) {
				lim = v
			}
		}
	}
	return lim, "v1"
}

// cgroupCPULimit returns the smallest CPU quota of the process's cgroup and its
// ancestors, in CPUs, or 0 when there is none.
func cgroupCPULimit(fsys fs.FS, self []byte) float64 {
	v2, v1 := cgroupPaths(self, "cpu")
	lim := 0.0
	take := func(quota, period float64) {
		if quota > 0 && period > 0 && (lim == 0 || quota/period < lim) {
			lim = quota / period
		}
	}
	if _, err := fs.Stat(fsys, "sys/fs/cgroup/cgroup.controllers"); err == nil {
		for _, d := range candidates("sys/fs/cgroup", v2) {
			if s, ok := readTrim(fsys, d+"/cpu.max"); ok {
				f := strings.Fields(s)
				if len(f) == 2 && f[0] != "max" {
					q, err1 := strconv.ParseFloat(f[0], 64)
					p, err2 := strconv.ParseFloat(f[1], 64)
					if err1 == nil && err2 == nil {
						take(q, p)
					}
				}
			}
		}
		return lim
	}
	for _, mount := range []string{"sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct"} {
		for _, d := range candidates(mount, v1) {
			qs, ok1 := readTrim(fsys, d+"/cpu.cfs_quota_us")
			ps, ok2 := readTrim(fsys, d+"/cpu.cfs_period_us")
			if ok1 && ok2 {
				q, err1 := strconv.ParseFloat(qs, 64)
				p, err2 := strconv.ParseFloat(ps, 64)
				if err1 == nil && err2 == nil {
					take(q, p)
				}
			}
		}
	}
	return lim
}
