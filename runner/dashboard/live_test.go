package dashboard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/run"
)

func TestStart(t *testing.T) {
	l, err := Start("127.0.0.1:0", []run.Job{{Scenario: result.Scenario{ID: "a-r1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.URL, "http://127.0.0.1:") || !strings.HasSuffix(l.URL, "/") {
		t.Errorf("URL = %q", l.URL)
	}
	resp, err := http.Get(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / = %s", resp.Status)
	}
	l.Stop()
	if _, err := http.Get(l.URL); err == nil {
		t.Error("the dashboard still answers after Stop")
	}
	if _, err := Start("127.0.0.1:notaport", nil); err == nil {
		t.Error("Start on a bad address: no error")
	}
}
