package platforms

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/swarm"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

func loadExample(t *testing.T, name string) *spec.File {
	t.Helper()
	f, err := spec.Load("../../../scenarios/examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenFile(t *testing.T) {
	f := loadExample(t, "python-local.yaml") // a service given only by its command
	tests := []struct {
		name, platform, want, err string
		unavailable               bool
	}{
		{name: "external starts nothing", platform: "external", want: "external"},
		{name: "local runs a command", platform: "local", want: "local"},
		{name: "auto chooses local for a command", platform: "auto", want: "local"},
		{name: "compose cannot run a command", platform: "compose", err: "service.command", unavailable: true},
		{name: "unknown", platform: "kubernetes", err: `unknown platform "kubernetes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := OpenFile(t.Context(), f, tt.platform, FileOptions{})
			if op.Platform != nil {
				defer op.Platform.Close()
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || errors.Is(err, platform.ErrUnavailable) != tt.unavailable {
					t.Fatalf("err = %v, want %q (unavailable: %v)", err, tt.err, tt.unavailable)
				}
				if op.Platform != nil {
					t.Error("a platform is left open after an error")
				}
				return
			}
			if err != nil || op.Name != tt.want || (op.Platform == nil) != (tt.want == "external") {
				t.Fatalf("OpenFile = %+v, %v; want %s", op, err, tt.want)
			}
			var meta result.Run
			op.Describe(&meta)
			if meta.Platform != tt.want || !slices.Equal(meta.PlatformNotes, append(op.Said, op.Info.Notes...)) {
				t.Errorf("Describe: platform %q, notes %q", meta.Platform, meta.PlatformNotes)
			}
			if tt.platform == "auto" && (len(op.Said) == 0 || op.Said[0] != CommandOnlyNote) {
				t.Errorf("Said = %q, want auto's note first", op.Said)
			}
		})
	}
}

func TestSwarmRendering(t *testing.T) {
	sw, err := SwarmRendering(loadExample(t, "swarm.yaml"))
	if err != nil || sw.Publish != "host" || !slices.Equal(sw.Constraints, []string{"node.labels.runner.role==sut"}) {
		t.Fatalf("SwarmRendering = %+v, %v; want host publishing and the file's constraints", sw, err)
	}
}

func TestRendering(t *testing.T) {
	for _, tt := range []struct {
		file, platform, err string
		swarm               bool
	}{
		{file: "swarm.yaml", swarm: true},
		{file: "swarm.yaml", platform: "compose"},
		{file: "capacity.yaml"},
		{file: "capacity.yaml", platform: "swarm", swarm: true},
		{file: "capacity.yaml", platform: "kubernetes", err: "--platform kubernetes: want compose or swarm"},
		{file: "external.yaml", err: "uses platform external"},
		{file: "python-local.yaml", err: "only by service.command"},
	} {
		t.Run(tt.file+" "+tt.platform, func(t *testing.T) {
			sw, err := Rendering(loadExample(t, tt.file), tt.platform)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || (sw != nil) != tt.swarm {
				t.Errorf("Rendering = %+v, %v; want a swarm rendering: %v", sw, err, tt.swarm)
			}
		})
	}
}

func TestFileOptionsFlags(t *testing.T) {
	var o FileOptions
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.Flags(fs)
	if err := fs.Parse([]string{"--init-swarm", "--swarm-node", "n2=tcp://10.0.0.2:2375", "--swarm-node", "n3=tcp://10.0.0.3:2375"}); err != nil {
		t.Fatal(err)
	}
	want := []swarm.Node{{Name: "n2", DockerHost: "tcp://10.0.0.2:2375"}, {Name: "n3", DockerHost: "tcp://10.0.0.3:2375"}}
	if !o.InitSwarm || o.DistributeImage || !slices.Equal(o.SwarmNodes, want) {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range []string{"n2", "=tcp://x", "n2="} {
		if err := fs.Parse([]string{"--swarm-node", bad}); err == nil || !strings.Contains(err.Error(), "want NAME=DOCKER_HOST") {
			t.Errorf("--swarm-node %s: %v", bad, err)
		}
	}
}
