package report

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// design is the results.csv header of DESIGN.md, verbatim.
const design = `scenario,replicas,cpus,memory_bytes,balancer,users,spawn_rate,rate,duration_s,
requests,throughput_rps,success_ratio,p50_ms,p90_ms,p95_ms,p99_ms,max_ms,
errors,oom_kills,restarts,peak_mem_bytes,mean_cpu_pct,slo_pass`

func TestColumnsFollowDesign(t *testing.T) {
	want := strings.Split(strings.ReplaceAll(design, "\n", ""), ",")
	if !slices.Equal(DesignColumns, want) {
		t.Errorf("DesignColumns = %q\nwant %q", DesignColumns, want)
	}
	if !slices.Equal(Columns[:len(want)], want) {
		t.Errorf("Columns does not start with the design's columns: %q", Columns)
	}
	seen := map[string]bool{}
	for _, c := range Columns {
		if seen[c] {
			t.Errorf("column %q twice", c)
		}
		seen[c] = true
	}
}

func TestRecordHasEveryColumn(t *testing.T) {
	d, err := Read("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Scenarios {
		if got := len(Record(s.Outcome)); got != len(Columns) {
			t.Errorf("%s: %d cells, want %d", s.Outcome.Scenario.ID, got, len(Columns))
		}
	}
}

func TestReportLinksResolve(t *testing.T) {
	dir := writtenFixture(t)
	md, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(string(md), -1)
	if len(links) < 20 {
		t.Errorf("only %d links in report.md", len(links))
	}
	for _, l := range links {
		target := l[1]
		if filepath.IsAbs(target) || strings.Contains(target, "://") {
			t.Errorf("link %q is not relative to the run directory", target)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target))); err != nil {
			t.Errorf("link %q: %v", target, err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	if err := os.CopyFS(dir, os.DirFS("testdata/run")); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		o    Options
	}{{"no-plots", Options{NoPlots: true}}, {"plots", Options{}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := WriteWith(dir, bc.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
