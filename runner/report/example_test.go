package report_test

import (
	"fmt"
	"os"
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
	header := "scenario,status,requests,errors,p50_ms,p95_ms,p99_ms,throughput_rps\n"
	base, _ := report.ParseResults(strings.NewReader(header + "smoke-r1,ok,1000,0,10,20,30,100\n"))
	new, _ := report.ParseResults(strings.NewReader(header + "smoke-r1,ok,1000,0,10,20,45,98\n"))
	base.Source, new.Source = "base.csv", "new.csv"
	c, err := report.Compare(base, new, report.DefaultThresholds)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Regressions(), c.Deltas[0].Regressions)
	c.Markdown(os.Stdout)
	// Output:
	// 1 [p99 +50.0% > +10.0%]
	// # Compare `base.csv` → `new.csv`
	//
	// Thresholds: p99 increase ≤ 10.0%, throughput drop ≤ 5.0%, error rate ≤ 1.0%.
	//
	// | scenario   | p50 ms                | p95 ms                | p99 ms                 | throughput /s        | error rate  | verdict                             |
	// |:-----------|:----------------------|:----------------------|:-----------------------|:---------------------|:------------|:------------------------------------|
	// | `smoke-r1` | 10.00 → 10.00 (+0.0%) | 20.00 → 20.00 (+0.0%) | 30.00 → 45.00 (+50.0%) | 100.0 → 98.0 (-2.0%) | 0.0% → 0.0% | **regression**: p99 +50.0% > +10.0% |
	//
	// **1 regression of 1.**
}
