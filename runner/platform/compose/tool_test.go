package compose

import "testing"

func TestErrorLines(t *testing.T) {
	out := " Container p-app-1  Creating\n Container p-app-1  Started\nError response from daemon: all ports are allocated\n"
	if got := errorLines(out); got != "Error response from daemon: all ports are allocated" {
		t.Errorf("errorLines = %q", got)
	}
	if got := errorLines("one\nlast words\n"); got != "last words" {
		t.Errorf("errorLines without an error line = %q", got)
	}
}
