package main

import (
	"context"
	"fmt"
	"io"
)

func cmdHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		usage(stdout)
		return exitOK
	case 1:
		c, ok := lookup(args[0])
		if !ok || c.name == "help" {
			if ok {
				usage(stdout)
				return exitOK
			}
			fmt.Fprintf(stderr, "runner help: unknown command %q\n", args[0])
			return exitUsage
		}
		return c.run(ctx, []string{"-h"}, stdout, stderr)
	}
	fmt.Fprintln(stderr, "runner help: want at most one COMMAND")
	return exitUsage
}
