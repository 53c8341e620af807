package platforms

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name, platform, dockerHost string
		want, note, err            string
	}{
		{name: "compose", platform: "compose", want: "compose"},
		{name: "local", platform: "local", want: "local"},
		{name: "auto without daemon", platform: "auto", dockerHost: "unix://" + filepath.Join(t.TempDir(), "none.sock"),
			want: "local", note: "platform auto chose local: platform unavailable: no Docker daemon answers"},
		{name: "unknown", platform: "kubernetes", err: `unknown platform "kubernetes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dockerHost != "" {
				t.Setenv("DOCKER_HOST", tt.dockerHost)
			}
			p, note, err := Open(t.Context(), tt.platform, Options{})
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
