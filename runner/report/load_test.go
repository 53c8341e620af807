package report

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/result"
)

func TestReadNotRunDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "results.csv")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{
		"missing": filepath.Join(t.TempDir(), "nope"),
		"file":    file,
		"empty":   t.TempDir(),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Read(dir); !errors.Is(err, ErrNotRunDir) {
				t.Errorf("Read = %v, want ErrNotRunDir", err)
			}
			if _, err := Write(dir); !errors.Is(err, ErrNotRunDir) {
				t.Errorf("Write = %v, want ErrNotRunDir", err)
			}
		})
	}
}

// damage changes a copy of the fixture; it returns the copy.
type damage func(t *testing.T, dir string)

func remove(rel string) damage {
	return func(t *testing.T, dir string) {
		if err := os.RemoveAll(filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		}
	}
}

func overwrite(rel, content string) damage {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteDamagedRunDir(t *testing.T) {
	const missingOutcome = "scenarios/replicas-r4-c0.5-none-u50/outcome.json: missing"
	tests := []struct {
		name     string
		damage   []damage
		problems []string // substrings, each in some problem
		rows     int      // results.csv rows
		report   []string // substrings of report.md
	}{
		{
			name:     "no run.json",
			damage:   []damage{remove(RunFile)},
			problems: []string{"run.json: missing; run metadata unknown", missingOutcome},
			rows:     10,
			report:   []string{"# Load-test report: fixture-20261128T120000Z", "## Block `memory`"},
		},
		{
			name:     "corrupt run.json",
			damage:   []damage{overwrite(RunFile, `{"id": 5`)},
			problems: []string{"run.json: invalid JSON"},
			rows:     10,
		},
		{
			name:     "no plan.json: order from the folders",
			damage:   []damage{remove(PlanFile)},
			problems: []string{"plan.json: missing; scenario order taken from scenarios/"},
			rows:     10,
			report:   []string{"## Block `memory`"},
		},
		{
			name:     "corrupt outcome",
			damage:   []damage{overwrite("scenarios/open-r1-ramp/outcome.json", `{"status": "ok", "load": {"requests": "many"}}`)},
			problems: []string{"scenarios/open-r1-ramp/outcome.json: invalid JSON", missingOutcome},
			rows:     9,
			report:   []string{"`open-r1-ramp`: not run (no readable outcome)."},
		},
		{
			name:     "bad stats line keeps the rows before it",
			damage:   []damage{overwrite("scenarios/open-r1-ramp/stats.csv", strings.Join(result.StatsHeader, ",")+"\n2026-11-28T12:00:00Z,a,1,1,1,1,1,1\nyesterday,a,1,1,1,1,1,1\n2026-11-28T12:00:02Z,a,1,1,1,1,1,1\n")},
			problems: []string{"scenarios/open-r1-ramp/stats.csv: stats.csv line 3", "1 samples read before it"},
			rows:     10,
		},
		{
			name:     "missing stats and events of an ok scenario",
			damage:   []damage{remove("scenarios/open-r1-ramp/stats.csv"), remove("scenarios/open-r1-ramp/events.json")},
			problems: []string{"scenarios/open-r1-ramp/stats.csv: missing; no memory plot", "scenarios/open-r1-ramp/events.json: missing; no container events listed"},
			rows:     10,
		},
		{
			name:     "corrupt events",
			damage:   []damage{overwrite("scenarios/open-r1-ramp/events.json", `[{"time": "never"}]`)},
			problems: []string{"scenarios/open-r1-ramp/events.json: invalid JSON"},
			rows:     10,
		},
		{
			name:     "a folder not in the plan",
			damage:   []damage{overwrite("scenarios/zz-extra/outcome.json", `{"status": "ok", "scenario": {"scenario": "zz-extra", "block": "extra", "replicas": 1, "users": 1}}`)},
			problems: []string{"scenarios/zz-extra: not in plan.json"},
			rows:     11,
			report:   []string{"## Block `extra`"},
		},
		{
			name:     "outcome without status",
			damage:   []damage{overwrite("scenarios/open-r1-ramp/outcome.json", `{"scenario": {"scenario": "open-r1-ramp", "replicas": 1, "rate": "10/s"}}`)},
			problems: []string{`scenarios/open-r1-ramp/outcome.json: no status; taken as "failed"`},
			rows:     10,
		},
		{
			name:     "only a scenarios folder",
			damage:   []damage{remove(RunFile), remove(PlanFile)},
			problems: []string{"run.json: missing", "plan.json: missing"},
			rows:     10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fixture(t)
			for _, d := range tt.damage {
				d(t, dir)
			}
			problems, err := WriteWith(dir, Options{NoPlots: true})
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(problems, "\n")
			for _, p := range tt.problems {
				if !strings.Contains(all, p) {
					t.Errorf("problems lack %q:\n%s", p, all)
				}
			}
			f, err := os.Open(filepath.Join(dir, ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs)-1 != tt.rows {
				t.Errorf("results.csv has %d rows, want %d", len(recs)-1, tt.rows)
			}
			md, err := os.ReadFile(filepath.Join(dir, ReportFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range append(tt.report, "## Problems reading the run directory") {
				if !strings.Contains(string(md), want) {
					t.Errorf("report.md lacks %q", want)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, SummaryFile)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestReadFillsSLO(t *testing.T) {
	dir := fixture(t)
	// An outcome that did not record its SLO verdict gets it from run.json's SLO.
	overwrite("scenarios/open-r1-ramp/outcome.json", `{"status": "ok", "scenario": {"scenario": "open-r1-ramp", "replicas": 1, "rate": "10/s"},
		"load": {"requests": 100, "success_ratio": 0.5, "latency": {"p95_ns": 4000000000}}}`)(t, dir)
	d, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Scenarios {
		if s.Outcome.Scenario.ID != "open-r1-ramp" {
			continue
		}
		o := s.Outcome
		if o.SLOPass == nil || *o.SLOPass || strings.Join(o.SLOFailures, "; ") != "p95 4s > 3s; error rate 50.00% > 1.00%" {
			t.Errorf("SLOPass %v, failures %q", o.SLOPass, o.SLOFailures)
		}
		return
	}
	t.Fatal("open-r1-ramp not read")
}

func TestBlocksPlaceEveryScenario(t *testing.T) {
	d, err := Read("testdata/run")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range blocks(d) {
		for _, c := range b.Configs {
			for _, scs := range b.Cells[c] {
				n += len(scs)
			}
			for _, ids := range b.NotRun[c] {
				n += len(ids)
			}
		}
	}
	if want := len(d.Scenarios) + len(d.Missing); n != want {
		t.Errorf("%d scenarios in block tables, want %d", n, want)
	}
}
