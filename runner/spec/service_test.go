package spec

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const commandGrid = "grid: [{name: a, memory: [64M], replicas: [2], load: [{rate: 1/s}]}]\n"

// TestCommandService: service.command alone is a complete service for platform
// local and auto; with build or image too, the file also runs on compose.
func TestCommandService(t *testing.T) {
	dir := fixture(t)
	tests := []struct {
		name, src                   string
		commandOnly                 bool
		image, build, workdir, note string
	}{
		{name: "alone on local", src: "name: t\nplatform: local\nservice: {command: [python3, -m, http.server, '{{.Port}}']}\n",
			commandOnly: true, workdir: dir},
		{name: "alone on auto", src: "name: t\nservice: {command: [python3, -m, http.server, '{{.Port}}'], workdir: svc}\n",
			commandOnly: true, workdir: filepath.Join(dir, "svc")},
		{name: "with a build folder local cannot build", src: "name: t\nplatform: local\nservice: {build: empty, command: [sh, -c, 'exec app --port {{.Port}}']}\n",
			image: "runner-t:latest", build: filepath.Join(dir, "empty"), workdir: dir, note: "platform local runs service.command"},
		{name: "with an image, for compose and local", src: "name: t\nservice: {image: 'app:1', command: [app, '--addr={{.Addr}}', 'r{{.Replica}}']}\n",
			image: "app:1", workdir: dir, note: "nothing is built"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := loadString(t, dir, tt.src+commandGrid)
			if err != nil {
				t.Fatal(err)
			}
			s := f.Service
			if s.CommandOnly() != tt.commandOnly || f.Image() != tt.image || s.Build != tt.build || s.Workdir != tt.workdir {
				t.Errorf("CommandOnly %v, Image %q, Build %q, Workdir %q; want %v, %q, %q, %q",
					s.CommandOnly(), f.Image(), s.Build, s.Workdir, tt.commandOnly, tt.image, tt.build, tt.workdir)
			}
			if note := s.LocalNote(); (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) {
				t.Errorf("LocalNote = %q, want %q", note, tt.note)
			}
			sc := f.Scenarios()[0]
			if sc.Image != tt.image || !slices.Equal(sc.Service.Command, s.Command) || sc.Service.Workdir != tt.workdir || sc.Replicas != 2 || sc.MemoryBytes != 64<<20 {
				t.Errorf("scenario %+v: want the service's command and workdir, 2 replicas of 64M", sc)
			}
		})
	}
}

// TestCheckPlatform: what --platform, or auto's choice, cannot run is an error
// at the service's line, as Load gives it for a file that names the platform.
func TestCheckPlatform(t *testing.T) {
	dir := fixture(t)
	tests := []struct {
		name, service string
		ok            []string
		want          map[string]string
	}{
		{name: "command alone", service: "{command: [python3, -m, http.server, '{{.Port}}']}", ok: []string{"local", "auto", "external"},
			want: map[string]string{"compose": "f.yaml:2:20: service.command: platform compose runs containers", "swarm": "service.command: platform swarm runs containers"}},
		{name: "image alone", service: "{image: 'x:1'}", ok: []string{"compose", "swarm", "auto"},
			want: map[string]string{"local": "f.yaml:2:18: service.image: image x:1 runs in a container, and platform local runs processes"}},
		{name: "Dockerfile", service: "{build: dsvc}", ok: []string{"compose", "swarm"},
			want: map[string]string{"local": "service.build: " + filepath.Join(dir, "dsvc") + " holds a Dockerfile"}},
		{name: "Go main package", service: "{build: svc}", ok: []string{"compose", "swarm", "local"}},
		{name: "image and command", service: "{image: 'x:1', command: [app]}", ok: []string{"compose", "swarm", "local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := loadString(t, dir, "name: t\nservice: "+tt.service+"\n"+commandGrid)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.ok {
				if err := f.CheckPlatform(p); err != nil {
					t.Errorf("CheckPlatform(%s): %v", p, err)
				}
			}
			for p, want := range tt.want {
				err := f.CheckPlatform(p)
				if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), filepath.Join(dir, "f.yaml")) {
					t.Errorf("CheckPlatform(%s) = %v, want an invalid-file error with %q", p, err, want)
				}
			}
		})
	}
}
