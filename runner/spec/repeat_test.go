package spec

import (
	"strings"
	"testing"
	"time"
)

func TestRepeat(t *testing.T) {
	dir := fixture(t)
	f, err := loadString(t, dir, head+`defaults: {repeat: 3}
grid:
  - {name: a, load: [{rate: 1/s}, {rate: 2/s}]}
  - {name: b, repeat: 5, load: [{rate: 1/s}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range f.Scenarios() {
		got[s.Block] = s.Repeat
		if r := s.Result().Repeat; r != s.Repeat {
			t.Errorf("%s: Result().Repeat = %d, want %d", s.ID, r, s.Repeat)
		}
	}
	if got["a"] != 3 || got["b"] != 5 {
		t.Errorf("repeats by block %v: want a 3 (defaults), b 5 (its own key)", got)
	}

	f, err = loadString(t, dir, head+"grid: [{name: a, load: [{rate: 1/s}]}]\n")
	if err != nil {
		t.Fatal(err)
	}
	ss := f.Scenarios()
	if ss[0].Repeat != DefaultRepeat {
		t.Errorf("no repeat key: Repeat = %d, want %d", ss[0].Repeat, DefaultRepeat)
	}
	once := ss[0].Estimate()

	// The flag wins over every key.
	if err := SetRepeat(ss, 4); err != nil {
		t.Fatal(err)
	}
	if ss[0].Repeat != 4 || ss[0].Estimate() != 4*once {
		t.Errorf("after SetRepeat(4): Repeat %d, Estimate %v, want 4 and %v", ss[0].Repeat, ss[0].Estimate(), 4*once)
	}
	for _, n := range []int{0, -1, MaxRepeat + 1} {
		if err := SetRepeat(ss, n); err == nil || !strings.Contains(err.Error(), "repeat must be 1 to 100") {
			t.Errorf("SetRepeat(%d) = %v, want the valid range", n, err)
		}
	}
	if ss[0].Repeat != 4 {
		t.Errorf("a refused SetRepeat changed Repeat to %d", ss[0].Repeat)
	}
	if ss[0].Result().Duration != time.Second*30 {
		t.Errorf("Result().Duration %v", ss[0].Result().Duration)
	}
}

func TestRepeatValidation(t *testing.T) {
	dir := fixture(t)
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"zero in defaults", head + "defaults: {repeat: 0}\ngrid: [{name: a, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:20: defaults.repeat: 0: repeat must be 1 to 100"}},
		{"too many in a block", head + "grid: [{name: a, repeat: 101, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:26: grid[0].repeat: 101: repeat must be 1 to 100"}},
		{"not a number", head + "grid: [{name: a, repeat: three, load: [{rate: 1/s}]}]\n",
			[]string{"f.yaml:3:26: grid[0].repeat:"}},
		{"in a load entry, where it does not belong", head + "grid: [{name: a, load: [{rate: 1/s, repeat: 2}]}]\n",
			[]string{`f.yaml:3:37: grid[0].load[0].repeat: unknown key "repeat"`}},
	} {
		t.Run(c.name, func(t *testing.T) { refused(t, dir, c.src, c.want...) })
	}
}
