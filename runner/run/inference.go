package run

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/result"
	"github.com/infergrid/runner/runner/spec"
)

// inferenceLoad sets the inference-workload fields of c from scenario s: the
// request's dataset, order and stream, a weighted mix, the arrival process and
// the streaming side file next to resultsPath.
func inferenceLoad(c *load.Config, s spec.Scenario, resultsPath string) {
	r, w := s.Request, s.Load
	c.Dataset, c.BodySeed, c.Stream = r.Dataset, r.Seed, r.Stream
	for _, m := range s.Mix {
		h := http.Header{}
		for k, v := range m.Headers {
			h.Set(k, v)
		}
		c.Requests = append(c.Requests, load.Request{
			Name: m.Name, Weight: m.Weight, Method: m.Method, Path: m.Path, Header: h,
			Bodies: m.Bodies, Dataset: m.Dataset, RandomBodies: m.Random, Seed: m.Seed, Stream: m.Stream,
		})
		if c.MixSeed == 0 {
			c.MixSeed = m.Seed
		}
	}
	c.Arrival, c.Burstiness, c.ArrivalSeed = w.Arrival, w.Burstiness, w.Seed
	if resultsPath != "" && streams(s) {
		c.StreamPath = strings.TrimSuffix(resultsPath, filepath.Ext(resultsPath)) + "-stream.jsonl"
	}
}

func streams(s spec.Scenario) bool {
	if s.Request.Stream {
		return true
	}
	for _, m := range s.Mix {
		if m.Stream {
			return true
		}
	}
	return false
}

// goodputCheck is a capacity search's step check on goodput: at least min of
// the step's requests met slo.goodput's limits.
func goodputCheck(min float64) func(result.Load) (bool, []string) {
	return func(l result.Load) (bool, []string) {
		g := l.Goodput
		if g == nil || l.Requests == 0 {
			return false, []string{"no request measured for goodput"}
		}
		if g.Ratio < min {
			return false, []string{fmt.Sprintf("goodput %.1f%% of requests < %.1f%%", 100*g.Ratio, 100*min)}
		}
		return true, nil
	}
}
