package platforms

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name, platform, dockerHost string
		commandOnly                bool
		want, note, err            string
	}{
		{name: "compose", platform: "compose", want: "compose"},
		{name: "local", platform: "local", want: "local"},
		{name: "auto without daemon", platform: "auto", dockerHost: "unix://" + filepath.Join(t.TempDir(), "none.sock"),
			want: "local", note: "platform auto chose local: platform unavailable: no Docker daemon answers"},
		{name: "unknown", platform: "kubernetes", err: `unknown platform "kubernetes"`},
		// A command alone runs locally whether a daemon answers (as where the
		// default socket serves) or not, and Docker is not asked: the note is
		// not the no-daemon one.
		{name: "auto with a command alone", platform: "auto", commandOnly: true, want: "local", note: CommandOnlyNote},
		{name: "auto with a command alone, no daemon", platform: "auto", commandOnly: true, dockerHost: "unix://" + filepath.Join(t.TempDir(), "none.sock"),
			want: "local", note: CommandOnlyNote},
		{name: "compose with a command alone", platform: "compose", commandOnly: true, want: "compose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dockerHost != "" {
				t.Setenv("DOCKER_HOST", tt.dockerHost)
			}
			p, note, err := Open(t.Context(), tt.platform, Options{CommandOnly: tt.commandOnly})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || p.Name() != tt.want || !strings.HasPrefix(note, tt.note) {
				t.Fatalf("Open = %v, %q, %v; want %s with note %q", p, note, err, tt.want, tt.note)
			}
			p.Close()
		})
	}
}
