// Command runner runs declarative load-test experiments against containerized
// inference services: one YAML file describes an experiment grid, and runner
// validates it, plans it, renders a compose file per scenario, runs every scenario
// and writes the report. `runner help` lists the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/infergrid/runner/runner/cli"
)

// The exit codes (cli's, which says what each means).
const (
	exitOK, exitSLO, exitUsage    = cli.ExitOK, cli.ExitSLO, cli.ExitUsage
	exitPlatform, exitInterrupted = cli.ExitPlatform, cli.ExitInterrupted
)

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }

// command is one subcommand: its usage text and the function that runs it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order `runner help` shows them.
func commands() []command {
	return []command{
		{"run", "run every scenario of a file and write the report (default: runner FILE)", cmdRun},
		{"clean", "remove the containers, networks, volumes and processes runs left behind", cmdClean},
		{"validate", "check scenario files; print every problem as FILE:LINE:COL", cmdValidate},
		{"plan", "list the expanded scenarios, the estimated time and whether they fit this host", cmdPlan},
		{"render", "write the compose file of every scenario, starting nothing", cmdRender},
		{"report", "rebuild report.md, report.html, results.csv, summary.json and plots of a run directory", cmdReport},
		{"compare", "compare two runs; exit 1 on a regression", cmdCompare},
		{"history", "trend report of many runs of one file, with change points marked", cmdHistory},
		{"agent", "send one share of a load from one agreed instant and write its raw results", cmdAgent},
		{"merge", "compute the metrics of one load from several agents' raw results", cmdMerge},
		{"schema", "print the JSON Schema of the scenario format", cmdSchema},
		{"version", "print the version", cmdVersion},
		{"help", "show help for a command", cmdHelp},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// Main runs the runner with args (without the program name) and returns its exit
// code. Ctrl-C and SIGTERM cancel the context the commands run with.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return cmdVersion(ctx, nil, stdout, stderr)
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(ctx, args[1:], stdout, stderr)
	}
	if looksLikeFile(args[0]) {
		return cmdRun(ctx, args, stdout, stderr)
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(stderr, "runner: unknown command %q%s\nRun 'runner help' for usage.\n", args[0], didYouMean(args[0], names))
	return exitUsage
}

// looksLikeFile reports whether arg names a scenario file, so that `runner FILE`
// means `runner run FILE`.
func looksLikeFile(arg string) bool {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && !st.IsDir()
}

func didYouMean(s string, names []string) string {
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, s) || strings.HasPrefix(s, n) || editDistance(s, n) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
		}
	}
	return d[len(a)][len(b)]
}
