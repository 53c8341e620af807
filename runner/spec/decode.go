package spec

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem of a scenario file.
type Error struct {
	File      string
	Line, Col int
	// Path is the YAML path of the value, e.g. grid[1].load[0].users.
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrInvalid is wrapped by every error Load returns for a file that was read but is
// not a valid scenario file (as opposed to one that could not be read).
var ErrInvalid = errors.New("invalid scenario file")

// positions remembers where each YAML path was written.
type positions map[string]*yaml.Node

// maxNodes bounds the work done on one file, so that alias bombs cannot hang Load.
const maxNodes = 200_000

// decoder fills Go values from YAML nodes, collecting every problem.
type decoder struct {
	file  string
	errs  []*Error
	pos   positions
	nodes int
	// bad holds the paths whose values could not be decoded; validation says
	// nothing more about them.
	bad map[string]bool
	// validating is set once decoding is done.
	validating bool
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	if !d.validating {
		if d.bad == nil {
			d.bad = map[string]bool{}
		}
		d.bad[path] = true
	}
	d.errs = append(d.errs, e)
}

// errAt reports a problem at the node written for path, or the nearest parent.
func (d *decoder) errAt(path, format string, args ...any) {
	for b := range d.bad {
		if b == path || strings.HasPrefix(path, b+".") || strings.HasPrefix(path, b+"[") {
			return
		}
	}
	p := path
	for {
		if n, ok := d.pos[p]; ok {
			d.errorf(n, path, format, args...)
			return
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			d.errorf(nil, path, format, args...)
			return
		}
		p = p[:i]
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a document"
}

var scalarType = reflect.TypeFor[scalar]()

// decode fills v from n, recording its position and every problem.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, path, "the file expands to more than %d YAML nodes (aliases?); write it out in full", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		d.decode(n.Alias, v, path)
		return
	}
	if _, ok := d.pos[path]; !ok {
		d.pos[path] = n
	}
	if v.Kind() == reflect.Pointer {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
		return
	}
	if v.CanAddr() && d.decodeCustom(n, v, path) {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

// decodeCustom decodes the types with a YAML form of their own (rates, balancers,
// scalars with a parse method) and tells whether v was one of them.
func (d *decoder) decodeCustom(n *yaml.Node, v reflect.Value, path string) bool {
	if rs, ok := v.Addr().Interface().(*RateSpec); ok {
		d.decodeRate(n, rs, path)
		return true
	}
	if bs, ok := v.Addr().Interface().(*BalancerSpec); ok {
		d.decodeBalancer(n, bs, path)
		return true
	}
	if !v.Addr().Type().Implements(scalarType) {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "want a single value, got %s", kindName(n))
		return true
	}
	if err := v.Addr().Interface().(scalar).parse(n.Value); err != nil {
		d.errorf(n, path, "%s", err)
	}
	return true
}

// decodeSlice decodes a sequence, or a single value as a list of one.
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	} else if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		items = nil
	}
	s := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		d.decode(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// decodeMap decodes a mapping of names to text values.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of names to values, got %s", kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if val.Kind == yaml.AliasNode && val.Alias != nil {
			val = val.Alias
		}
		if val.Kind != yaml.ScalarNode || val.Tag == "!!null" {
			d.errorf(val, join(path, k.Value), "want a text value, got %s", kindName(val))
			continue
		}
		m.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(val.Value))
	}
	v.Set(m)
}

// decodeScalar decodes text, whole numbers and numbers.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, path, "want a text value, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, path, "want a whole number, got %s", kindName(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 10, 32)
		if err != nil {
			d.errorf(n, path, "want a whole number, got %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, path, "want a number, got %s", kindName(n))
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || f != f || f > 1e15 || f < -1e15 {
			d.errorf(n, path, "want a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		panic("spec: no decoder for " + v.Type().String())
	}
}

func (d *decoder) decodeRate(n *yaml.Node, r *RateSpec, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			d.errorf(n, path, "want a rate such as 200/s or a ramp {from: 10/s, to: 2000/s}, got nothing")
			return
		}
		if err := r.Constant.parse(n.Value); err != nil {
			d.errorf(n, path, "%s", err)
		}
	case yaml.MappingNode:
		d.decodeStruct(n, reflect.ValueOf(r).Elem(), path)
		if !r.From.set || !r.To.set {
			d.errorf(n, path, "a ramp needs both from and to, e.g. {from: 10/s, to: 2000/s}")
		}
	default:
		d.errorf(n, path, "want a rate such as 200/s or a ramp {from: 10/s, to: 2000/s}, got %s", kindName(n))
	}
}

func (d *decoder) decodeBalancer(n *yaml.Node, b *BalancerSpec, path string) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag != "!!null":
		b.Type = n.Value
	case n.Kind == yaml.MappingNode:
		d.decodeStruct(n, reflect.ValueOf(b).Elem(), path)
		if b.Type == "" {
			d.errorf(n, path, "a balancer mapping needs type, e.g. {type: proxy, policy: least_conn}")
		}
	default:
		d.errorf(n, path, "want a balancer (none, client, proxy) or {type: proxy, policy: least_conn, cpus: 0.5, memory: 128M, image: haproxy:2.6}, got %s", kindName(n))
	}
}

// fieldKeys lists the YAML keys of a struct type in declaration order.
func fieldKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if k := yamlKey(f); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" {
		return ""
	}
	return tag
}

// laterKeys are keys the format reserves for features of later versions, with
// the reason they are refused.
var laterKeys = map[string]string{}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping with keys %s, got %s", strings.Join(fieldKeys(v.Type()), ", "), kindName(n))
		return
	}
	fields := map[string]int{}
	for i := range v.NumField() {
		if k := yamlKey(v.Type().Field(i)); k != "" {
			fields[k] = i
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" {
			d.decodeMerge(val, v, path)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain names")
			continue
		}
		if path == "" && strings.HasPrefix(k.Value, "x-") {
			continue // extension fields hold anchors for the rest of the file, as in compose
		}
		p := join(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			if why, later := laterKeys[k.Value]; later {
				d.errorf(k, p, "unknown key %q: %s", k.Value, why)
				continue
			}
			d.errorf(k, p, "unknown key %q%s", k.Value, suggest(k.Value, fieldKeys(v.Type())))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, p, "key %q is given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.pos[p] = val
		d.decode(val, v.Field(idx), p)
	}
}

func (d *decoder) decodeMerge(n *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxNodes {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		d.decodeStruct(n, v, path)
	case yaml.SequenceNode:
		for _, m := range n.Content {
			d.decodeMerge(m, v, path)
		}
	default:
		d.errorf(n, path, "<< merges a mapping, got %s", kindName(n))
	}
}

// suggest returns ` (did you mean "x"?)` for the closest valid key, or the list of
// valid keys when none is close.
func suggest(key string, valid []string) string {
	best, bestD := "", 1<<30
	for _, v := range valid {
		if dist := levenshtein(strings.ToLower(key), v); dist < bestD {
			best, bestD = v, dist
		}
	}
	if best != "" && (bestD <= 2 || bestD <= len(key)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	s := append([]string(nil), valid...)
	sort.Strings(s)
	return "; valid keys: " + strings.Join(s, ", ")
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
