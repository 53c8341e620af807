package docker

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/infergrid/runner/runner/result"
)

func TestToSample(t *testing.T) {
	read := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cur := container.StatsResponse{
		Read: read,
		CPUStats: container.CPUStats{
			CPUUsage:    container.CPUUsage{TotalUsage: 1_500_000_000},
			SystemUsage: 20_000_000_000, OnlineCPUs: 2,
		},
		MemoryStats: container.MemoryStats{Usage: 50 << 20, Limit: 64 << 20, Stats: map[string]uint64{"total_inactive_file": 10 << 20}},
		Networks:    map[string]container.NetworkStats{"eth0": {RxBytes: 100, TxBytes: 10}, "eth1": {RxBytes: 5, TxBytes: 1}},
		PidsStats:   container.PidsStats{Current: 7},
	}
	prev := container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 1_000_000_000}, SystemUsage: 18_000_000_000, OnlineCPUs: 2}
	tests := []struct {
		name string
		prev *container.CPUStats
		edit func(*container.StatsResponse)
		want result.Sample
	}{
		{
			// 0.5 s of container CPU over 2 s of host CPU time on 2 CPUs: 50% of one core.
			name: "v1 with previous reading", prev: &prev,
			want: result.Sample{Time: read, Container: "c", CPUPct: 50, MemBytes: 40 << 20, MemLimitBytes: 64 << 20, NetRxBytes: 105, NetTxBytes: 11, PIDs: 7},
		},
		{
			name: "first reading without precpu has no CPU %",
			want: result.Sample{Time: read, Container: "c", MemBytes: 40 << 20, MemLimitBytes: 64 << 20, NetRxBytes: 105, NetTxBytes: 11, PIDs: 7},
		},
		{
			name: "daemon precpu used when no previous reading",
			edit: func(s *container.StatsResponse) { s.PreCPUStats = prev },
			want: result.Sample{Time: read, Container: "c", CPUPct: 50, MemBytes: 40 << 20, MemLimitBytes: 64 << 20, NetRxBytes: 105, NetTxBytes: 11, PIDs: 7},
		},
		{
			name: "cgroup v2 inactive_file, per-CPU count when online_cpus is absent", prev: &prev,
			edit: func(s *container.StatsResponse) {
				s.MemoryStats.Stats = map[string]uint64{"inactive_file": 20 << 20}
				s.CPUStats.OnlineCPUs = 0
				s.CPUStats.CPUUsage.PercpuUsage = []uint64{1, 2, 3, 4}
			},
			want: result.Sample{Time: read, Container: "c", CPUPct: 100, MemBytes: 30 << 20, MemLimitBytes: 64 << 20, NetRxBytes: 105, NetTxBytes: 11, PIDs: 7},
		},
		{
			name: "counter reset gives 0, cache larger than usage is ignored", prev: &container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 9e18}, SystemUsage: 1},
			edit: func(s *container.StatsResponse) {
				s.MemoryStats.Stats = map[string]uint64{"total_inactive_file": 99 << 20}
			},
			want: result.Sample{Time: read, Container: "c", MemBytes: 50 << 20, MemLimitBytes: 64 << 20, NetRxBytes: 105, NetTxBytes: 11, PIDs: 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cur
			in.MemoryStats.Stats = map[string]uint64{"total_inactive_file": 10 << 20}
			in.CPUStats.CPUUsage.PercpuUsage = nil
			if tt.edit != nil {
				tt.edit(&in)
			}
			if got := ToSample("c", tt.prev, in); got != tt.want {
				t.Errorf("ToSample:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestToEvent(t *testing.T) {
	msg := func(action events.Action, attrs map[string]string) events.Message {
		attrs["name"] = "p-svc-1"
		return events.Message{Type: events.ContainerEventType, Action: action, Actor: events.Actor{ID: "abc", Attributes: attrs}, TimeNano: 1_700_000_000_123_456_789}
	}
	tests := []struct {
		name   string
		in     events.Message
		kind   string
		code   *int
		msg    string
		ignore bool
	}{
		{name: "die", in: msg(events.ActionDie, map[string]string{"exitCode": "137"}), kind: result.EventDie, code: ptr(137)},
		{name: "oom", in: msg(events.ActionOOM, map[string]string{}), kind: result.EventOOM, msg: "out of memory: the kernel killed a process of the container"},
		{name: "kill", in: msg(events.ActionKill, map[string]string{"signal": "15"}), kind: result.EventKill, msg: "signal 15"},
		{name: "start", in: msg(events.ActionStart, map[string]string{}), kind: result.EventStart},
		{name: "restart", in: msg(events.ActionRestart, map[string]string{}), kind: result.EventRestart},
		{name: "unhealthy", in: msg(events.ActionHealthStatusUnhealthy, map[string]string{}), kind: result.EventHealth},
		{name: "create is not recorded", in: msg(events.ActionCreate, map[string]string{}), ignore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := ToEvent(tt.in)
			if ok == tt.ignore {
				t.Fatalf("ToEvent ok = %v", ok)
			}
			if tt.ignore {
				return
			}
			if ev.Kind != tt.kind || ev.Container != "p-svc-1" || ev.Message != tt.msg || !ev.Time.Equal(time.Unix(0, tt.in.TimeNano)) {
				t.Errorf("ToEvent = %+v", ev)
			}
			if (ev.ExitCode == nil) != (tt.code == nil) || (tt.code != nil && *ev.ExitCode != *tt.code) {
				t.Errorf("exit code %v, want %v", ev.ExitCode, tt.code)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestTarDir(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"Dockerfile": "FROM scratch\n", "app": "binary", "sub/model.json": "{}", ".git/HEAD": "ref"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	os.Symlink("app", filepath.Join(dir, "link"))
	var buf bytes.Buffer
	if err := tarDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "sub/model.json" {
			if b, _ := io.ReadAll(tr); string(b) != "{}" {
				t.Errorf("content of %s: %q", h.Name, b)
			}
		}
		if h.Name == "link" && h.Linkname != "app" {
			t.Errorf("symlink target %q", h.Linkname)
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "Dockerfile app link sub sub/model.json" {
		t.Errorf("tar entries %q (without .git)", got)
	}
}

func TestReadBuildOutput(t *testing.T) {
	ok := `{"stream":"Step 1/3 : FROM scratch\n"}` + "\n" + `{"stream":" ---> \n"}` + "\n" + `{"aux":{"ID":"sha256:1"}}` + "\n"
	if err := readBuildOutput(strings.NewReader(ok)); err != nil {
		t.Fatalf("successful build: %v", err)
	}
	bad := `{"stream":"Step 2/3 : COPY app /app\n"}` + "\n" + `{"errorDetail":{"message":"COPY failed: file not found"},"error":"COPY failed: file not found"}` + "\n"
	err := readBuildOutput(strings.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), "COPY failed: file not found\nStep 2/3 : COPY app /app") {
		t.Fatalf("failed build: %v", err)
	}
}

// TestRetryVanished retries only a build whose cached parent vanished, and at most
// the given number of times; the message is the one CI saw when a concurrent
// docker rmi pruned a layer under a build.
func TestRetryVanished(t *testing.T) {
	vanished := errors.New("failed to get digest sha256:41d5: open /var/lib/docker/image/fuse-overlayfs/imagedb/content/sha256/41d5: no such file or directory")
	for _, c := range []struct {
		name  string
		errs  []error
		calls int
		err   error
	}{
		{"first try", []error{nil}, 1, nil},
		{"vanished then built", []error{vanished, nil}, 2, nil},
		{"other failure", []error{errors.New("COPY failed: file not found")}, 1, errors.New("COPY failed: file not found")},
		{"vanished every time", []error{vanished, vanished, vanished, nil}, 3, vanished},
	} {
		calls := 0
		err := retryVanished(3, func() error { calls++; return c.errs[calls-1] })
		if calls != c.calls || fmt.Sprint(err) != fmt.Sprint(c.err) {
			t.Errorf("%s: %d calls, %v; want %d, %v", c.name, calls, err, c.calls, c.err)
		}
	}
	if !layerVanished(errors.New("No such image: sha256:9f1e")) || layerVanished(errors.New("no such file or directory")) {
		t.Error("layerVanished")
	}
}
