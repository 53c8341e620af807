package load

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Config{Targets: []string{"http://127.0.0.1:8080"}, Rate: 10, Duration: time.Second}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{name: "valid open", change: func(*Config) {}},
		{name: "valid ramp", change: func(c *Config) { c.Rate, c.RampFrom, c.RampTo = 0, 1, 100 }},
		{name: "valid closed", change: func(c *Config) {
			c.Rate, c.Users, c.SpawnRate, c.ThinkMin, c.ThinkMax = 0, 10, 5, time.Second, 3*time.Second
		}},
		{name: "no targets", change: func(c *Config) { c.Targets = nil }, want: []string{"no targets"}},
		{name: "bad target", change: func(c *Config) { c.Targets = []string{"127.0.0.1:80"} }, want: []string{`target "127.0.0.1:80"`}},
		{name: "balancer", change: func(c *Config) { c.Balancer = "proxy" }, want: []string{`balancer "proxy"`}},
		{name: "two models", change: func(c *Config) { c.Users = 3 }, want: []string{"exactly one load model"}},
		{name: "no model", change: func(c *Config) { c.Rate = 0 }, want: []string{"exactly one load model"}},
		{name: "ramp from zero", change: func(c *Config) { c.Rate, c.RampTo = 0, 100 }, want: []string{"both ends must be positive"}},
		{name: "think", change: func(c *Config) {
			c.Rate, c.Users, c.ThinkMin, c.ThinkMax = 0, 1, 2*time.Second, time.Second
		}, want: []string{"think 2s..1s"}},
		{name: "all at once", change: func(c *Config) {
			c.Rate, c.Duration, c.Warmup, c.Timeout = -1, 0, -time.Second, -time.Second
		}, want: []string{"rate -1/s", "duration 0s", "warmup -1s", "timeout -1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	if _, err := Run(t.Context(), Config{}); err == nil || !strings.Contains(err.Error(), "invalid load") {
		t.Fatalf("err %v", err)
	}
}
