package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inferenceFixture is fixture plus JSON Lines datasets.
func inferenceFixture(t *testing.T) string {
	dir := fixture(t)
	for name, content := range map[string]string{
		"prompts.jsonl": "{\"prompt\":\"a\",\"max_tokens\":8,\"stream\":true}\n\n{\"prompt\":\"b\",\"max_tokens\":8,\"stream\":true}\n",
		"bad.jsonl":     "{\"prompt\":\"a\"}\n{\"prompt\":\n",
		"empty.jsonl":   "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInferenceKeysResolve(t *testing.T) {
	dir := inferenceFixture(t)
	f, err := loadString(t, dir, `name: inf
service: {build: svc}
requests:
  - {name: gen, weight: 9, path: /v1/completions, headers: {Content-Type: application/json}, dataset: prompts.jsonl, order: random, seed: 3, stream: sse}
  - {name: health, path: /health}
slo: {ttft_p95: 500ms, itl_p99: 80ms, tpot_p95: 60ms, goodput: {ttft: 1s, tpot: 100ms, latency: 5s}}
grid:
  - name: a
    load:
      - {rate: 20/s, arrival: poisson, seed: 7}
      - {rate: 20/s, arrival: gamma, burstiness: 0.5}
      - {search: {from: 5/s, to: 50/s, on: goodput, min_goodput: 90%}}
`)
	if err != nil {
		t.Fatal(err)
	}
	ss := f.Scenarios()
	if len(ss) != 3 {
		t.Fatalf("%d scenarios", len(ss))
	}
	s := ss[0]
	if len(s.Mix) != 2 || s.Mix[0].Name != "gen" || s.Mix[0].Weight != 9 || s.Mix[1].Weight != 1 ||
		!s.Mix[0].Stream || s.Mix[1].Stream || !s.Mix[0].Random || s.Mix[0].Seed != 3 || s.Mix[0].Method != "POST" || s.Mix[1].Method != "GET" {
		t.Errorf("mix = %+v", s.Mix)
	}
	if d := s.Mix[0].Dataset; d == nil || d.Len() != 2 || string(d.Line(1)) != `{"prompt":"b","max_tokens":8,"stream":true}` {
		t.Errorf("dataset = %v", d)
	}
	if s.Request.Name != "gen" {
		t.Errorf("Request is not the mix's first entry: %+v", s.Request)
	}
	if s.Load.Arrival != "poisson" || s.Load.Seed != 7 || ss[1].Load.Arrival != "gamma" || ss[1].Load.Burstiness != 0.5 {
		t.Errorf("arrivals = %+v, %+v", s.Load, ss[1].Load)
	}
	if l := ss[2].Load; !l.SearchOnGoodput || l.SearchMinGoodput != 0.9 {
		t.Errorf("search = %+v", l)
	}
	for _, want := range []string{"-rate20-poisson-seed7", "-rate20-gamma0_5", "-search5to50-goodput"} {
		found := false
		for _, s := range ss {
			found = found || strings.HasSuffix(s.ID, want)
		}
		if !found {
			t.Errorf("no scenario ID ends with %s", want)
		}
	}
	slo := f.SLO.Result()
	if slo.TTFTP95 != 500*time.Millisecond || slo.ITLP99 != 80*time.Millisecond || slo.TPOTP95 != 60*time.Millisecond ||
		slo.Goodput == nil || slo.Goodput.TTFT != time.Second || slo.Goodput.Latency != 5*time.Second {
		t.Errorf("SLO = %+v", slo)
	}
}

func TestInferenceValidation(t *testing.T) {
	dir := inferenceFixture(t)
	head := "name: t\nservice: {build: svc}\n"
	grid := "grid: [{name: a, load: [{rate: 1/s}]}]\n"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"dataset line not JSON", head + "request: {headers: {Content-Type: application/json}, dataset: bad.jsonl}\n" + grid,
			[]string{"f.yaml:3:63: request.dataset: " + filepath.Join(dir, "bad.jsonl") + ":2: line is not a JSON value: unexpected end of JSON input"}},
		{"empty dataset", head + "request: {dataset: empty.jsonl}\n" + grid, []string{"request.dataset: " + filepath.Join(dir, "empty.jsonl") + ": dataset is empty"}},
		{"missing dataset", head + "request: {dataset: nope.jsonl}\n" + grid, []string{"request.dataset: cannot read dataset"}},
		{"dataset and body", head + "request: {body: x, dataset: prompts.jsonl}\n" + grid, []string{"request: give only one of body, body_file, body_files and dataset"}},
		{"bad stream and order", head + "request: {stream: sssse, order: shuffled}\n" + grid,
			[]string{`request.stream: "sssse": use none or sse`, `request.order: "shuffled": use cycle or random`}},
		{"order disagrees with body_order", head + "request: {order: random, body_order: cycle}\n" + grid, []string{"request.order: order random and body_order cycle disagree"}},
		{"name outside a mix", head + "request: {name: x}\n" + grid, []string{"request.name: name belongs to an entry of requests"}},
		{"request and requests", head + "request: {path: /a}\nrequests: [{name: a}]\n" + grid, []string{"requests: give request (one request) or requests (a weighted mix), not both"}},
		{"mix names and weights", head + "requests: [{name: a, weight: -1}, {name: a, weight: 0}, {path: /x}]\n" + grid,
			[]string{"requests[0].weight: -1: a weight must be 0 or more", `requests[1].name: request name "a" is already used by requests[0]`, "requests[2]: a mix entry needs a name"}},
		{"zero weights", head + "requests: [{name: a, weight: 0}, {name: b, weight: 0}]\n" + grid, []string{"requests: every weight is 0"}},
		{"empty mix", head + "requests: []\n" + grid, []string{"requests: the mix is empty"}},
		{"streaming SLO without a stream", head + "slo: {ttft_p95: 1s, goodput: {tpot: 1s}}\n" + grid,
			[]string{"slo.ttft_p95: ttft_p95 is a streaming objective, and no request streams", "slo.goodput.tpot: tpot limits streamed answers"}},
		{"empty goodput", head + "slo: {goodput: {}}\n" + grid, []string{"slo.goodput: goodput needs at least one per-request limit"}},
		{"arrival problems", head + "grid: [{name: a, load: [{rate: 1/s, arrival: poison}, {users: 2, spawn_rate: 1, arrival: poisson}, {rate: 2/s, burstiness: 0.5}, {rate: 3/s, arrival: gamma, burstiness: -1, seed: -2}, {rate: {from: 1/s, to: 2/s}, arrival: gamma}, {rate: 4/s, seed: 3}]}]\n",
			[]string{`grid[0].load[0].arrival: "poison": use constant, poisson or gamma (with burstiness) (did you mean "poisson"?)`,
				"grid[0].load[1].arrival: arrival applies to an arrival rate", "grid[0].load[2].burstiness: burstiness is the shape of gamma arrivals",
				"grid[0].load[3].burstiness: -1: must be more than 0", "grid[0].load[3].seed: -2: a seed must be 0",
				"grid[0].load[5].seed: seed repeats poisson or gamma arrivals"}},
		{"search on goodput without goodput", head + "slo: {p99: 1s}\ngrid: [{name: a, load: [{search: {from: 1/s, to: 9/s, on: goodput}}, {search: {from: 1/s, to: 8/s, on: speed, min_goodput: 5%}}]}]\n",
			[]string{"grid[0].load[0].search.on: a search on goodput needs per-request limits", `grid[0].load[1].search.on: "speed": use slo`, "grid[0].load[1].search.min_goodput: min_goodput is for a search on goodput"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { refused(t, dir, tt.src, tt.want...) })
	}
}
