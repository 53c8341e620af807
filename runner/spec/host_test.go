package spec

import (
	"reflect"
	"testing"
	"time"
)

func TestFit(t *testing.T) {
	h := Host{CPUs: 2, MemoryBytes: 16 << 30}
	load := Workload{Rate: 10, Duration: 20 * time.Second}
	tests := []struct {
		name string
		s    Scenario
		want []string
	}{
		{"unlimited fits", Scenario{Replicas: 8, Load: load}, nil},
		{"exactly the host", Scenario{Replicas: 2, CPUs: 1, MemoryBytes: 8 << 30, Load: load}, nil},
		{"memory", Scenario{Replicas: 2, MemoryBytes: 10 << 30, Load: load}, []string{"memory 20GiB > host 16GiB"}},
		{"cpus", Scenario{Replicas: 4, CPUs: 1.5, Load: load}, []string{"cpus 6 > host 2"}},
		{"cpuset", Scenario{Replicas: 1, CPUSet: "0,2-3", Load: load}, []string{"cpuset 0,2-3 names CPU 3, host has 0-1"}},
		{"cpuset on the host", Scenario{Replicas: 1, CPUSet: "0-1", Load: load}, nil},
		{"spawn too slow", Scenario{Replicas: 1, Load: Workload{Users: 10000, SpawnRate: 500, Duration: 10 * time.Second, Warmup: 5 * time.Second}},
			[]string{"spawning takes 20s > warmup+duration"}},
		{"external", Scenario{Load: load}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Fit(h); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Fit = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestThisHost(t *testing.T) {
	h, err := ThisHost()
	if err != nil {
		t.Skipf("no /proc/meminfo here: %v", err)
	}
	if h.CPUs < 1 || h.MemoryBytes < 64<<20 {
		t.Errorf("ThisHost = %+v", h)
	}
}
