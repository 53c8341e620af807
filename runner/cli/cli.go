package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/infergrid/runner/runner/spec"
)

// The exit codes of every command (DESIGN.md).
const (
	ExitOK          = 0
	ExitSLO         = 1   // an SLO or a compare threshold failed
	ExitUsage       = 2   // bad usage or an invalid scenario file
	ExitPlatform    = 3   // the platform failed
	ExitInterrupted = 130 // stopped by SIGINT or SIGTERM, as is conventional
)

// Made is told of every flag set NewFlags and FixedFlags make, so that a test
// can check that a command's usage text names each of its flags; commands leave
// it alone.
var Made = func(*flag.FlagSet) {}

// NewFlags returns the flag set of command "runner NAME", whose -h prints text
// (usage, arguments, options, examples) to stdout with the options filled in
// where text says OPTIONS.
func NewFlags(name, text string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("runner "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		var b strings.Builder
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(stdout, strings.Replace(text, "OPTIONS\n", b.String()+"\n", 1))
	}
	Made(fs)
	return fs
}

// FixedFlags returns a flag set for a command whose usage text lists its options
// itself: a flag error prints the error and text to stderr, and ParseFixed
// prints text to stdout for -h.
func FixedFlags(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), text) }
	Made(fs)
	return fs
}

// ParseFixed parses the flags of a FixedFlags set anywhere among args and
// returns the positional arguments, or ok=false with the exit code: 0 after -h
// (the usage is printed), 2 after a flag error.
func ParseFixed(fs *flag.FlagSet, args []string, stdout io.Writer) (pos []string, code int, ok bool) {
	pos, err := Interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, ExitOK, false
	}
	if err != nil {
		return nil, ExitUsage, false
	}
	return pos, 0, true
}

// Parse parses flags anywhere among args and returns the positional arguments.
// It returns ok=false with the exit code when parsing ends the command (-h or an
// error, which it prints to stderr).
func Parse(fs *flag.FlagSet, args []string, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := Interspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp): // flag has printed the usage
		return nil, ExitOK, false
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\nRun '%s -h' for usage.\n", fs.Name(), err, fs.Name())
		return nil, ExitUsage, false
	}
	return pos, 0, true
}

// Interspersed parses flags that may come before, between or after the positional
// arguments, which it returns; "--" ends the flags.
func Interspersed(fs *flag.FlagSet, args []string) ([]string, error) {
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

// LoadFile loads a scenario file and prints its problems to stderr, one a line.
func LoadFile(path string, stderr io.Writer) (*spec.File, int) {
	f, err := spec.Load(path)
	if err != nil {
		if errors.Is(err, spec.ErrInvalid) {
			fmt.Fprintln(stderr, err)
			n := strings.Count(err.Error(), "\n") + 1
			fmt.Fprintf(stderr, "%s: %d problem%s; nothing was started\n", path, n, Plural(n))
		} else {
			fmt.Fprintf(stderr, "runner: %v\n", err)
		}
		return nil, ExitUsage
	}
	return f, ExitOK
}

// Plural is "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// OneFile checks that exactly one FILE argument was given.
func OneFile(fs *flag.FlagSet, pos []string, stderr io.Writer) (string, bool) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want one scenario FILE, got %d arguments\nRun '%s -h' for usage.\n", fs.Name(), len(pos), fs.Name())
		return "", false
	}
	return pos[0], true
}
