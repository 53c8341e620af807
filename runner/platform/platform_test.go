package platform

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitHealthy(t *testing.T) {
	var calls atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		if calls.Add(1) < 3 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
	}))
	defer slow.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "sick", http.StatusInternalServerError)
	}))
	defer sick.Close()

	tests := []struct {
		name    string
		eps     []Endpoint
		exited  ExitCheck
		timeout time.Duration
		want    string // substring of the error; empty means success
		exit    bool
	}{
		{name: "healthy after retries", eps: []Endpoint{{Name: "a", URL: slow.URL}}, timeout: 5 * time.Second},
		{name: "timeout names replica and status", eps: []Endpoint{{Name: "a", URL: slow.URL}, {Name: "b", URL: sick.URL}},
			timeout: 400 * time.Millisecond, want: "replica b did not become healthy: no 2xx from " + sick.URL + "/health within 400ms (last: status 500"},
		{name: "exited replica", eps: []Endpoint{{Name: "c", URL: sick.URL}}, timeout: 5 * time.Second,
			exited: func(context.Context, int) (bool, string) { return true, "exit code 3" }, want: "replica c exited before becoming healthy: exit code 3", exit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WaitHealthy(t.Context(), tt.eps, "/health", tt.timeout, tt.exited)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("WaitHealthy: %v", err)
				}
				return
			}
			var he *HealthError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tt.want) || he.Exited != tt.exit {
				t.Fatalf("err = %v; want HealthError containing %q (exited %v)", err, tt.want, tt.exit)
			}
		})
	}
}

func TestWaitHealthyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := WaitHealthy(ctx, []Endpoint{{Name: "x", URL: "http://127.0.0.1:1"}}, "/", time.Minute, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err = WaitHealthy(ctx, []Endpoint{{Name: "x", URL: "http://127.0.0.1:1"}}, "/", time.Minute, nil)
	var he *HealthError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &he) {
		t.Fatalf("err = %v, want the caller's deadline, not a health timeout", err)
	}
}

func TestBuildGo(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	if !IsGoMain("testdata/testsvc") {
		t.Fatal("testdata/testsvc is a main package")
	}
	if IsGoMain(".") {
		t.Fatal("platform is not a main package")
	}
	out := filepath.Join(t.TempDir(), "app")
	if err := BuildGo(t.Context(), "testdata/testsvc", out, "", ""); err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	err := BuildGo(t.Context(), bad, filepath.Join(bad, "app"), "", "")
	if err == nil || !strings.Contains(err.Error(), "go build of "+bad+" failed") {
		t.Fatalf("building an empty dir: err = %v", err)
	}
}
