package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/infergrid/runner/runner/result"
)

// ErrNotRunDir is returned (wrapped) when a directory holds none of the files of a
// run directory: no run.json, no plan.json and no scenarios folder.
var ErrNotRunDir = errors.New("not a run directory")

// File names inside a run directory (see package result).
const (
	RunFile      = "run.json"
	PlanFile     = "plan.json"
	ScenariosDir = "scenarios"
	OutcomeFile  = "outcome.json"
	StatsFile    = "stats.csv"
	EventsFile   = "events.json"
	ReportFile   = "report.md"
	ResultsFile  = "results.csv"
	SummaryFile  = "summary.json"
	PlotsDir     = "plots"
)

// Scenario is one scenario of a run as read back from its directory.
type Scenario struct {
	// Outcome is outcome.json, with SLOPass filled from the run's SLO when the
	// outcome did not record it.
	Outcome result.Outcome
	// Samples are the rows of stats.csv.
	Samples []result.Sample
	// Events are the entries of events.json.
	Events []result.Event
}

// Data is everything read from a run directory.
type Data struct {
	// Dir is the run directory.
	Dir string
	// Run is run.json (zero when missing); its Scenarios field is not used.
	Run result.Run
	// Plan is plan.json, or the scenarios found on disk when plan.json is missing.
	Plan []result.Scenario
	// Scenarios are the scenarios that have a readable outcome, in plan order
	// (scenarios found on disk but not in the plan follow, sorted by ID).
	Scenarios []Scenario
	// Missing are the planned scenarios without a readable outcome.
	Missing []result.Scenario
	// Problems name every missing or unreadable file, one sentence each.
	Problems []string
}

// Read loads a run directory. Missing and corrupt files do not stop it: each is
// named in Data.Problems and the rest is read. It fails only with ErrNotRunDir
// (wrapped) when dir holds nothing of a run.
func Read(dir string) (*Data, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", dir, ErrNotRunDir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: %w: it is a file", dir, ErrNotRunDir)
	}
	d := &Data{Dir: dir}
	runErr := readJSON(filepath.Join(dir, RunFile), &d.Run)
	planErr := readJSON(filepath.Join(dir, PlanFile), &d.Plan)
	ids, dirErr := scenarioDirs(filepath.Join(dir, ScenariosDir))
	if errors.Is(runErr, fs.ErrNotExist) && errors.Is(planErr, fs.ErrNotExist) && errors.Is(dirErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: no %s, %s or %s/ in it", dir, ErrNotRunDir, RunFile, PlanFile, ScenariosDir)
	}
	d.problem(RunFile, runErr, "run metadata unknown")
	d.problem(PlanFile, planErr, "scenario order taken from "+ScenariosDir+"/")
	d.problem(ScenariosDir+"/", dirErr, "no scenario was recorded")

	order := make([]result.Scenario, 0, len(d.Plan)+len(ids))
	seen := map[string]bool{}
	for _, s := range d.Plan {
		if !seen[s.ID] {
			seen[s.ID] = true
			order = append(order, s)
		}
	}
	planned := len(order)
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			order = append(order, result.Scenario{ID: id})
		}
	}
	for i, s := range order {
		sc, ok := d.readScenario(s, i < planned)
		if !ok {
			d.Missing = append(d.Missing, s)
			continue
		}
		d.Scenarios = append(d.Scenarios, sc)
	}
	if len(d.Plan) == 0 && planErr != nil {
		for _, s := range d.Scenarios {
			d.Plan = append(d.Plan, s.Outcome.Scenario)
		}
	}
	return d, nil
}

// readScenario reads one scenario's directory; ok is false without a usable outcome.
func (d *Data) readScenario(planned result.Scenario, inPlan bool) (Scenario, bool) {
	rel := filepath.ToSlash(filepath.Join(ScenariosDir, planned.ID))
	abs := filepath.Join(d.Dir, ScenariosDir, planned.ID)
	var sc Scenario
	if err := readJSON(filepath.Join(abs, OutcomeFile), &sc.Outcome); err != nil {
		d.problem(rel+"/"+OutcomeFile, err, "scenario not run or interrupted, left out of the tables")
		return sc, false
	}
	if sc.Outcome.Scenario.ID == "" {
		sc.Outcome.Scenario = planned
	}
	if sc.Outcome.Scenario.ID != planned.ID {
		d.Problems = append(d.Problems, fmt.Sprintf("%s/%s: names scenario %q, its folder is %q; the folder name is used", rel, OutcomeFile, sc.Outcome.Scenario.ID, planned.ID))
		sc.Outcome.Scenario.ID = planned.ID
	}
	if !inPlan && len(d.Plan) > 0 {
		d.Problems = append(d.Problems, fmt.Sprintf("%s: not in %s; reported after the planned scenarios", rel, PlanFile))
	}
	if sc.Outcome.Status == "" {
		d.Problems = append(d.Problems, fmt.Sprintf("%s/%s: no status; taken as %q", rel, OutcomeFile, result.StatusFailed))
		sc.Outcome.Status = result.StatusFailed
	}
	d.fillSLO(&sc.Outcome)
	if len(sc.Outcome.Repeats) == 0 {
		d.readTelemetry(&sc, rel, abs, sc.Outcome.Status, true)
		return sc, true
	}
	// A repeated scenario's telemetry is in its repeats' folders: the samples
	// of the repeat its series comes from, the events of every repeat.
	for i, r := range sc.Outcome.Repeats {
		k := cmp.Or(r.Repeat, i+1)
		sub := result.RepeatDir(k)
		d.readTelemetry(&sc, rel+"/"+sub, filepath.Join(abs, sub), r.Status, k == sc.Outcome.MedianRepeat)
	}
	return sc, true
}

// readTelemetry reads the events.json (appended to sc.Events) and, when
// samples, the stats.csv of a scenario, or of one of its repeats, from abs; rel
// names it in problems. A missing file is a problem only where the run
// started a stack that finished (status ok).
func (d *Data) readTelemetry(sc *Scenario, rel, abs, status string, samples bool) {
	expected := d.Run.Platform != "external" && status == result.StatusOK
	if samples {
		f, err := os.Open(filepath.Join(abs, StatsFile))
		switch {
		case err == nil:
			sc.Samples, err = result.ReadStats(f)
			f.Close()
			if err != nil {
				d.Problems = append(d.Problems, fmt.Sprintf("%s/%s: %v; %d samples read before it", rel, StatsFile, err, len(sc.Samples)))
			}
		case !errors.Is(err, fs.ErrNotExist) || expected:
			d.problem(rel+"/"+StatsFile, err, "no memory plot")
		}
	}
	var evs []result.Event
	err := readJSON(filepath.Join(abs, EventsFile), &evs)
	if err != nil && (!errors.Is(err, fs.ErrNotExist) || expected) {
		d.problem(rel+"/"+EventsFile, err, "no container events listed")
	}
	sc.Events = append(sc.Events, evs...)
}

// fillSLO sets SLOPass from the run's SLO when the outcome did not record it.
func (d *Data) fillSLO(o *result.Outcome) {
	if d.Run.SLO == nil || o.SLOPass != nil {
		return
	}
	pass, failures := false, []string{"scenario " + o.Status}
	if o.Status == result.StatusOK {
		pass, failures = d.Run.SLO.Check(o.Load)
	}
	o.SLOPass, o.SLOFailures = &pass, failures
}

// problem records a missing or unreadable file with what follows from it.
func (d *Data) problem(name string, err error, consequence string) {
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		d.Problems = append(d.Problems, fmt.Sprintf("%s: missing; %s", name, consequence))
	default:
		d.Problems = append(d.Problems, fmt.Sprintf("%s: %v; %s", name, err, consequence))
	}
}

// readJSON decodes a whole JSON file into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// scenarioDirs lists the sub-folders of the scenarios folder, sorted.
func scenarioDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}
