package platform

import (
	"slices"
	"strings"
	"testing"
)

func TestExpandCommand(t *testing.T) {
	v := CommandVars{Port: 18001, Addr: "127.0.0.1:18001", Replica: 2}
	tests := []struct {
		name    string
		command []string
		want    []string
		err     string
	}{
		{name: "every field", command: []string{"python3", "-m", "http.server", "{{.Port}}", "--bind={{.Addr}}", "replica-{{.Replica}}.log"},
			want: []string{"python3", "-m", "http.server", "18001", "--bind=127.0.0.1:18001", "replica-2.log"}},
		{name: "inside a shell line", command: []string{"sh", "-c", "exec app --port {{.Port}} 2>&1"},
			want: []string{"sh", "-c", "exec app --port 18001 2>&1"}},
		{name: "no template", command: []string{"app", "{not a template}"}, want: []string{"app", "{not a template}"}},
		{name: "unknown field", command: []string{"app", "{{.Prot}}"}, err: `argument 1 "{{.Prot}}": can't evaluate field Prot; the fields`},
		{name: "unclosed", command: []string{"{{.Port"}, err: `argument 0 "{{.Port" is not a valid template: unclosed action;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandCommand(tt.command, v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), CommandFields) {
					t.Fatalf("err = %v, want %q and the list of fields", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("ExpandCommand = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
