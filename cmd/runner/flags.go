package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/infergrid/runner/runner/spec"
)

// madeFlags is told of every flag set a command makes (a test checks that the
// command's usage text names each of its flags).
var madeFlags = func(*flag.FlagSet) {}

// newFlags returns a flag set whose -h prints text (usage, arguments, options,
// examples) with the options filled in where text says OPTIONS.
func newFlags(name, text string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("runner "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		var b strings.Builder
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(stdout, strings.Replace(text, "OPTIONS\n", b.String()+"\n", 1))
	}
	madeFlags(fs)
	return fs
}

// fixedFlags returns a flag set for a command whose usage text lists its options
// itself: a flag error prints the error and text to stderr, and parseFixed
// prints text to stdout for -h.
func fixedFlags(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), text) }
	madeFlags(fs)
	return fs
}

// parseFixed parses the flags of a fixedFlags set anywhere among args and
// returns the positional arguments, or ok=false with the exit code: 0 after -h
// (the usage is printed), 2 after a flag error.
func parseFixed(fs *flag.FlagSet, args []string, stdout io.Writer) (pos []string, code int, ok bool) {
	pos, err := interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, exitOK, false
	}
	if err != nil {
		return nil, exitUsage, false
	}
	return pos, 0, true
}

// parse parses flags anywhere among args and returns the positional arguments.
// It returns ok=false with the exit code when parsing ends the command (-h or an
// error, which it prints to stderr).
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := interspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp): // flag has printed the usage
		return nil, exitOK, false
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\nRun '%s -h' for usage.\n", fs.Name(), err, fs.Name())
		return nil, exitUsage, false
	}
	return pos, 0, true
}

// interspersed parses flags that may come before, between or after the positional
// arguments, which it returns; "--" ends the flags.
func interspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadFile loads a scenario file and prints its problems to stderr, one a line.
func loadFile(path string, stderr io.Writer) (*spec.File, int) {
	f, err := spec.Load(path)
	if err != nil {
		if errors.Is(err, spec.ErrInvalid) {
			fmt.Fprintln(stderr, err)
			n := strings.Count(err.Error(), "\n") + 1
			fmt.Fprintf(stderr, "%s: %d problem%s; nothing was started\n", path, n, plural(n))
		} else {
			fmt.Fprintf(stderr, "runner: %v\n", err)
		}
		return nil, exitUsage
	}
	return f, exitOK
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// oneFile checks that exactly one FILE argument was given.
func oneFile(fs *flag.FlagSet, pos []string, stderr io.Writer) (string, bool) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want one scenario FILE, got %d arguments\nRun '%s -h' for usage.\n", fs.Name(), len(pos), fs.Name())
		return "", false
	}
	return pos[0], true
}
