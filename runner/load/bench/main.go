package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd, rest := "report", args
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(rest)
	case "load":
		return runLoad(rest)
	case "report":
		return report(rest)
	default:
		return fmt.Errorf("unknown command %q: want report, serve or load", cmd)
	}
}
