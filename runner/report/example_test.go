package report_test

import (
	"fmt"
	"strings"

	"github.com/infergrid/runner/runner/report"
)

func ExampleParsePercent() {
	v, err := report.ParsePercent("10%")
	fmt.Println(v, err)
	_, err = report.ParsePercent("10")
	fmt.Println(err)
	// Output:
	// 0.1 <nil>
	// "10" is not a percentage: write it with a % sign, e.g. 10%
}

func ExampleCompare() {
	header := "scenario,status,requests,errors,p99_ms,throughput_rps\n"
	base, _ := report.ParseResults(strings.NewReader(header + "smoke-r1,ok,1000,0,30,100\n"))
	new, _ := report.ParseResults(strings.NewReader(header + "smoke-r1,ok,1000,0,36,99\n"))
	base.Source, new.Source = "base", "new"
	// Five repeats on each side: p99 20% slower, throughput within noise.
	repeats := func(p99, rps []float64) *report.Samples {
		s := &report.Samples{}
		for i := range p99 {
			s.Repeats = append(s.Repeats, map[string]float64{"p99_ms": p99[i], "throughput_rps": rps[i]})
		}
		return s
	}
	base.Samples["smoke-r1"] = repeats([]float64{29, 30, 31, 30.5, 29.5}, []float64{100, 101, 99, 100.5, 99.5})
	new.Samples["smoke-r1"] = repeats([]float64{35, 36, 37, 36.5, 35.5}, []float64{99, 100, 98, 101, 99.5})
	c := report.Compare(base, new, report.DefaultCompareOptions)
	fmt.Println(c.Regressions(), c.Deltas[0].Regressions)
	for _, t := range c.Deltas[0].Tests {
		fmt.Printf("%s: %s, %+.1f%% [%+.1f%%, %+.1f%%], p %.3f\n", t.Metric, t.Verdict, 100*t.Change, 100*t.Lo, 100*t.Hi, t.P)
	}
	// Output:
	// 1 [p99 +20.0% > +10.0% (p 0.008)]
	// p99_ms: regression, +20.0% [+14.8%, +25.4%], p 0.008
	// throughput_rps: no difference, -0.5% [-2.0%, +1.0%], p 0.526
}
