package report

import (
	"fmt"
	"strings"

	"github.com/infergrid/runner/runner/result"
)

// RuleAgents names the load agents (generators) that may have bounded a
// scenario's load.
const RuleAgents = "load_agents"

// Agents flags, per scenario sent by load agents, every agent that was
// overloaded (result.Generator.Overloaded), with its evidence: its CPU, its
// send lag, its shortfall against its share.
func Agents(outcomes []result.Outcome) []Finding {
	var out []Finding
	for _, o := range outcomes {
		var over []string
		for _, g := range o.Load.Generators {
			if !g.Overloaded {
				continue
			}
			var why []string
			if g.CPUShare > 0.8 {
				why = append(why, fmt.Sprintf("CPU %.0f%% of its %d", 100*g.CPUShare, g.Procs))
			}
			if g.Shortfall {
				why = append(why, fmt.Sprintf("sent %.1f/s of its %.1f/s", g.RateRPS, g.RequestedRPS))
			}
			if g.SendLagP99 > 0 {
				why = append(why, fmt.Sprintf("send lag p99 %s ms", msLabel(g.SendLagP99)))
			}
			where := ""
			if g.Node != "" {
				where = " on " + g.Node
			}
			over = append(over, fmt.Sprintf("`%s`%s (%s)", g.Name, where, strings.Join(why, ", ")))
		}
		if len(over) == 0 {
			continue
		}
		out = append(out, Finding{Rule: RuleAgents, Scenarios: []string{o.Scenario.ID}, Text: fmt.Sprintf(
			"`%s`: %d of its %d load agents were overloaded, so the load may not be what was asked: %s. Add generators, or place them on nodes with free CPUs (swarm.generator_constraints).",
			o.Scenario.ID, len(over), len(o.Load.Generators), strings.Join(over, "; "))})
	}
	return out
}
