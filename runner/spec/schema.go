package spec

import (
	_ "embed"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
)

// typesSource is the source of the format's types; their field comments become the
// schema's descriptions, so the schema says what the Go documentation says.
//
//go:embed types.go
var typesSource string

// enums are the closed value sets of string fields, by "Type.key".
var enums = map[string][]string{
	"File.platform":       Platforms,
	"BalancerSpec.type":   Balancers,
	"BalancerSpec.policy": ProxyPolicies,
	"Request.method":      Methods,
	"Request.body_order":  Orders,
	"Request.order":       Orders,
	"Request.stream":      StreamModes,
	"LoadEntry.arrival":   Arrivals,
	"Search.on":           {"slo", "goodput"},
}

// bounds are the inclusive ranges of integer fields, by "Type.key".
var bounds = map[string][2]int{
	"Defaults.repeat":     {1, MaxRepeat},
	"Block.repeat":        {1, MaxRepeat},
	"Defaults.generators": {1, MaxGenerators},
	"Block.generators":    {1, MaxGenerators},
}

// Schema returns the JSON Schema (draft 2020-12) of the scenario format, derived
// from the yaml tags of File and the types it holds.
func Schema() ([]byte, error) {
	docs, err := fieldDocs()
	if err != nil {
		return nil, err
	}
	g := &schemaGen{docs: docs, defs: map[string]any{}}
	root := g.object(reflect.TypeFor[File]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://github.com/infergrid/runner/scenarios/schema.json"
	root["title"] = "runner scenario file"
	root["description"] = "An experiment grid for runner: the service under test, the request, defaults, SLO and grid blocks. Paths are relative to the file's folder."
	root["required"] = []string{"name", "grid"}
	root["patternProperties"] = map[string]any{"^x-": map[string]any{"description": "Extension fields are ignored; use them to hold YAML anchors."}}
	root["$defs"] = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// fieldDocs maps "Type.Field" to the field's doc comment.
func fieldDocs() (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "types.go", typesSource, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fld := range st.Fields.List {
			for _, name := range fld.Names {
				docs[ts.Name.Name+"."+name.Name] = strings.Join(strings.Fields(fld.Doc.Text()), " ")
			}
		}
		return false
	})
	return docs, nil
}

type schemaGen struct {
	docs map[string]string
	defs map[string]any
}

var (
	durationSchema = map[string]any{"type": "string", "pattern": `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`,
		"description": "A duration such as 500ms, 30s or 2m."}
	rateSchema = map[string]any{"anyOf": []any{
		map[string]any{"type": "number", "exclusiveMinimum": 0},
		map[string]any{"type": "string", "pattern": `^[0-9]+(\.[0-9]+)?\s*(/\s*(s|sec|second|m|min|minute|h|hour))?$`},
	}, "description": "Requests per time unit: 200/s, 600/m, 10/h; a plain number is per second."}
	valueSchemas = map[reflect.Type]map[string]any{
		reflect.TypeFor[Duration](): durationSchema,
		reflect.TypeFor[Rate]():     rateSchema,
		reflect.TypeFor[CPUs](): {"anyOf": []any{
			map[string]any{"type": "number", "exclusiveMinimum": 0},
			map[string]any{"const": unlimited},
		}, "description": "CPUs per replica (0.5, 2) or unlimited."},
		reflect.TypeFor[Memory](): {"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?\s?([kKmMgGtTpP][iI]?)?[bB]?|unlimited)$`,
			"description": "Memory per replica in binary units as Docker reads them (700M, 10G, 512MiB) or unlimited."},
		reflect.TypeFor[Think](): {"type": "string", "pattern": `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)(\.\.(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+))?$`,
			"description": "A fixed think time (1s) or a uniform range (1s..3s)."},
		reflect.TypeFor[Percent](): {"anyOf": []any{
			map[string]any{"type": "number", "minimum": 0, "maximum": 1},
			map[string]any{"type": "string", "pattern": `^[0-9]+(\.[0-9]+)?\s*%$`},
		}, "description": "A share: 1% or a fraction such as 0.01."},
		reflect.TypeFor[PortRange](): {"type": "string", "pattern": `^[0-9]+(-[0-9]+)?$`,
			"description": "An inclusive host port range LO-HI within 1024-65535."},
	}
)

func (g *schemaGen) typeSchema(t reflect.Type, owner, key string) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := valueSchemas[t]; ok {
		return clone(s)
	}
	switch t {
	case reflect.TypeFor[RateSpec]():
		return map[string]any{"anyOf": []any{rateSchema, g.ref(t)}}
	case reflect.TypeFor[BalancerSpec]():
		return map[string]any{"anyOf": []any{map[string]any{"type": "string", "enum": Balancers}, g.ref(t)}}
	}
	switch t.Kind() {
	case reflect.Struct:
		return g.ref(t)
	case reflect.Slice:
		item := g.typeSchema(t.Elem(), owner, key)
		return map[string]any{"anyOf": []any{item, map[string]any{"type": "array", "items": item}}}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []string{"string", "number", "boolean"}}}
	case reflect.String:
		s := map[string]any{"type": "string"}
		if e, ok := enums[owner+"."+key]; ok {
			s["enum"] = e
		}
		return s
	case reflect.Int:
		s := map[string]any{"type": "integer"}
		if b, ok := bounds[owner+"."+key]; ok {
			s["minimum"], s["maximum"] = b[0], b[1]
		}
		return s
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	panic("spec: no schema for " + t.String())
}

func (g *schemaGen) ref(t reflect.Type) map[string]any {
	if _, ok := g.defs[t.Name()]; !ok {
		g.defs[t.Name()] = nil // placeholder against recursion
		g.defs[t.Name()] = g.object(t)
	}
	return map[string]any{"$ref": "#/$defs/" + t.Name()}
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		key := yamlKey(f)
		if key == "" {
			continue
		}
		s := g.typeSchema(f.Type, t.Name(), key)
		if d := g.docs[t.Name()+"."+f.Name]; d != "" {
			s["description"] = d
		}
		props[key] = s
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if t == reflect.TypeFor[Block]() {
		o["required"] = []string{"name", "load"}
	}
	if t == reflect.TypeFor[Search]() {
		o["required"] = []string{"from", "to"}
	}
	if t == reflect.TypeFor[RateSpec]() {
		o["required"] = []string{"from", "to"}
	}
	return o
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
