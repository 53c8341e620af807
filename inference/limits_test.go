package inference

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
	"testing/fstest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestCgroupLimits(t *testing.T) {
	tests := []struct {
		name    string
		fs      fstest.MapFS
		self    string
		mem     int64
		version string
		cpus    float64
	}{
		{
			name: "v2 in a container (namespaced root)",
			fs: fstest.MapFS{
				"sys/fs/cgroup/cgroup.controllers": file("cpu memory"),
				"sys/fs/cgroup/memory.max":         file("67108864\n"),
				"sys/fs/cgroup/cpu.max":            file("50000 100000\n"),
			},
			self: "0::/\n", mem: 64 << 20, version: "v2", cpus: 0.5,
		},
		{
			name: "v2 nested: the smallest ancestor limit wins",
			fs: fstest.MapFS{
				"sys/fs/cgroup/cgroup.controllers":          file(""),
				"sys/fs/cgroup/memory.max":                  file("max\n"),
				"sys/fs/cgroup/user.slice/memory.max":       file("1073741824\n"),
				"sys/fs/cgroup/user.slice/app/memory.max":   file("max\n"),
				"sys/fs/cgroup/user.slice/app/cpu.max":      file("max 100000\n"),
				"sys/fs/cgroup/user.slice/cpu.max":          file("150000 100000\n"),
				"sys/fs/cgroup/user.slice/app/cgroup.procs": file("1\n"),
			},
			self: "0::/user.slice/app\n", mem: 1 << 30, version: "v2", cpus: 1.5,
		},
		{
			name: "v2 unlimited",
			fs: fstest.MapFS{
				"sys/fs/cgroup/cgroup.controllers": file(""),
				"sys/fs/cgroup/memory.max":         file("max\n"),
			},
			self: "0::/\n", mem: 0, version: "v2",
		},
		{
			name: "v1 in a container: host path not mounted, the mount root is the container",
			fs: fstest.MapFS{
				"sys/fs/cgroup/memory/memory.limit_in_bytes": file("524288000\n"),
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":         file("150000\n"),
				"sys/fs/cgroup/cpu/cpu.cfs_period_us":        file("100000\n"),
			},
			self: "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n", mem: 500 << 20, version: "v1", cpus: 1.5,
		},
		{
			name: "v1 unlimited (huge number) and no quota (-1)",
			fs: fstest.MapFS{
				"sys/fs/cgroup/memory/memory.limit_in_bytes": file("9223372036854771712\n"),
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":         file("-1\n"),
				"sys/fs/cgroup/cpu/cpu.cfs_period_us":        file("100000\n"),
			},
			self: "4:memory:/process_api/x\n1:cpu:/\n", mem: 0, version: "v1",
		},
		{
			name: "v1 on a host: the process's own cgroup",
			fs: fstest.MapFS{
				"sys/fs/cgroup/memory/memory.limit_in_bytes":        file("9223372036854771712\n"),
				"sys/fs/cgroup/memory/jobs/memory.limit_in_bytes":   file("268435456\n"),
				"sys/fs/cgroup/memory/jobs/1/memory.limit_in_bytes": file("9223372036854771712\n"),
			},
			self: "4:memory:/jobs/1\n", mem: 256 << 20, version: "v1",
		},
		{name: "no cgroup filesystem", fs: fstest.MapFS{}, self: "", mem: 0, version: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem, version := cgroupMemoryLimit(tt.fs, []byte(tt.self))
			if mem != tt.mem || version != tt.version {
				t.Errorf("memory limit %d (%s), want %d (%s)", mem, version, tt.mem, tt.version)
			}
			if cpus := cgroupCPULimit(tt.fs, []byte(tt.self)); math.Abs(cpus-tt.cpus) > 1e-9 {
				t.Errorf("cpu limit %v, want %v", cpus, tt.cpus)
			}
		})
	}
}

func TestApplyMemoryLimitRespectsGOMEMLIMIT(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	t.Setenv("GOMEMLIMIT", "123MiB")
	debug.SetMemoryLimit(123 << 20)
	ml := ApplyMemoryLimit(0.9)
	if ml.Source != "GOMEMLIMIT" || ml.Bytes != 123<<20 {
		t.Errorf("got %+v, want the GOMEMLIMIT value kept", ml)
	}
	os.Unsetenv("GOMEMLIMIT")
	ml = ApplyMemoryLimit(0) // ratio 0: leave the runtime alone
	if ml.Source != "none" || ml.Bytes != 123<<20 {
		t.Errorf("got %+v, want the limit untouched", ml)
	}
}
