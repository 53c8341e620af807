package result

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteReadJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outcome.json")
	in := Outcome{Scenario: Scenario{ID: "a-r1", Duration: time.Second}, Status: StatusOK}
	if err := WriteJSON(path, in); err != nil {
		t.Fatal(err)
	}
	var out Outcome
	if err := ReadJSON(path, &out); err != nil {
		t.Fatal(err)
	}
	if out.Scenario.ID != "a-r1" || out.Scenario.Duration != time.Second || out.Status != StatusOK {
		t.Errorf("round trip: %+v", out)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReadJSON(path, &out); err == nil {
		t.Error("corrupt JSON: no error")
	}
}

func TestWriteFileUnwritableDir(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "missing", "x.json"), []byte("{}")); err == nil {
		t.Error("missing folder: no error")
	}
}
