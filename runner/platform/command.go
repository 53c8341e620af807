package platform

import (
	"fmt"
	"strings"
	"text/template"
)

// CommandVars are what a service command line (Spec.Command, the scenario's
// service.command) may refer to, as text/template fields.
type CommandVars struct {
	// Port is the port the replica must listen on: {{.Port}}.
	Port int
	// Addr is 127.0.0.1:Port: {{.Addr}}.
	Addr string
	// Replica is the replica's number, from 1: {{.Replica}}.
	Replica int
}

// CommandFields names the fields of CommandVars as a command writes them.
const CommandFields = "{{.Port}}, {{.Addr}} and {{.Replica}}"

// ExpandCommand expands each argument of command as a text/template with v:
// "--port={{.Port}}" becomes "--port=18001". An argument that is not a valid
// template, or refers to a field CommandVars lacks, is an error that names it.
func ExpandCommand(command []string, v CommandVars) ([]string, error) {
	out := make([]string, len(command))
	for i, arg := range command {
		if !strings.Contains(arg, "{{") {
			out[i] = arg
			continue
		}
		t, err := template.New(fmt.Sprintf("argument %d", i)).Option("missingkey=error").Parse(arg)
		if err != nil {
			return nil, fmt.Errorf("argument %d %q is not a valid template: %v; the fields are %s", i, arg, trimTemplateErr(err), CommandFields)
		}
		var b strings.Builder
		if err := t.Execute(&b, v); err != nil {
			return nil, fmt.Errorf("argument %d %q: %v; the fields are %s", i, arg, trimTemplateErr(err), CommandFields)
		}
		out[i] = b.String()
	}
	return out, nil
}

// trimTemplateErr drops text/template's "template: NAME:LINE:COL: executing ..."
// prefix, which repeats what the caller says.
func trimTemplateErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template: ") {
		msg = msg[i+2:]
	}
	return strings.TrimSuffix(msg, " in type platform.CommandVars")
}
