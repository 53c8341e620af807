package inference

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedDatasets: every request body of the prompt datasets that the
// shipped scenario files send to /v1/completions is one the service accepts.
// (The streaming examples' dataset once lacked "model", so the service
// answered every request with 400.)
func TestShippedDatasets(t *testing.T) {
	m, err := LoadLLM(DefaultLLM)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../scenarios/payloads/*prompts*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no prompt datasets under scenarios/payloads (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			if _, apiErr := decodeCompletion([]byte(line), false, m, DefaultLLM); apiErr != nil {
				t.Errorf("%s:%d: the service refuses it: %d %s", f, n, apiErr.Status, apiErr.Message)
			}
		}
	}
}
