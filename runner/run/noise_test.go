package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeProc(t *testing.T, load, stat string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"loadavg": load, "stat": stat} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHostNoise(t *testing.T) {
	start := readHost(fakeProc(t, "0.50 0.40 0.30 1/100 42\n", "cpu  100 0 100 700 0 0 0 100 0 0\ncpu0 1 2 3\n"))
	quiet := readHost(fakeProc(t, "1.00 0.40 0.30 1/100 42\n", "cpu  200 0 150 1350 0 0 0 100 0 0\n"))
	busy := readHost(fakeProc(t, "7.50 3 2 1/100 42\n", "cpu  500 0 300 800 0 0 0 200 0 0\n"))
	tests := []struct {
		name           string
		end            hostSnapshot
		busyPct, steal float64
		warnings       []string
	}{
		{"quiet", quiet, 150.0 / 800 * 100, 0, nil},
		{"busy and stolen", busy, 600.0 / 800 * 100, 100.0 / 800 * 100, []string{"load average reached 7.5 on 2 CPUs", "stole 12.5%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := hostNoise(start, tt.end, 2)
			if n == nil || n.LoadStart != 0.5 || n.BusyPct != tt.busyPct || n.StealPct != tt.steal || len(n.Warnings) != len(tt.warnings) {
				t.Fatalf("noise %+v, want busy %v steal %v warnings %q", n, tt.busyPct, tt.steal, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(n.Warnings[i], w) {
					t.Errorf("warning %q lacks %q", n.Warnings[i], w)
				}
			}
		})
	}
	if n := hostNoise(readHost(t.TempDir()), quiet, 2); n != nil {
		t.Errorf("without /proc: %+v, want nil", n)
	}
}
