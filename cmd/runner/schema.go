package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/infergrid/runner/runner/cli"
	"github.com/infergrid/runner/runner/spec"
)

func cmdSchema(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("schema", usageText("schema"), stdout)
	out := fs.String("out", "", "write the schema to `FILE` instead of standard output")
	pos, code, ok := cli.Parse(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintln(stderr, "runner schema: takes no arguments")
		return exitUsage
	}
	b, err := spec.Schema()
	if err != nil {
		fmt.Fprintf(stderr, "runner schema: %v\n", err)
		return exitPlatform
	}
	if *out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "runner schema: %v\n", err)
		return exitUsage
	}
	return exitOK
}
