package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/spec"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"good.yaml":    "name: good\nservice: {image: x:1}\ngrid:\n  - name: a\n    load: [{rate: 10/s}]\n",
		"broken.yaml":  "name: broken\nservice: {image: x:1, template: bad.yml.tmpl}\ngrid:\n  - name: a\n    load: [{rate: 10/s}]\n",
		"bad.yml.tmpl": "services:\n  {{.Service}}:\n    image: {{.Image}}\n    ports: [{{.Ports}}\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ file, err string }{
		{"good.yaml", ""},
		{"broken.yaml", "bad.yml.tmpl rendered invalid YAML for scenario a-"},
		{"../../scenarios/examples/python-local.yaml", ""}, // a command alone has no compose file
		{"../../scenarios/examples/external.yaml", ""},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			path := tt.file
			if !strings.HasPrefix(path, "..") {
				path = filepath.Join(dir, path)
			}
			f, err := spec.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			err = Check(f)
			if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Check = %v, want %q", err, tt.err)
			}
		})
	}
}
