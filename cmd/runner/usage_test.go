package main

import (
	"bytes"
	"flag"
	"io"
	"regexp"
	"testing"

	"github.com/infergrid/runner/runner/cli"
)

// TestUsageNamesEveryFlag checks that `runner COMMAND -h` names every flag the
// command defines: the usage texts live in usage/*.txt, and a text that lists
// its options by hand (compare, history, report), or one that lost its OPTIONS
// line, would miss a flag added in Go.
func TestUsageNamesEveryFlag(t *testing.T) {
	var sets []*flag.FlagSet
	cli.Made = func(fs *flag.FlagSet) { sets = append(sets, fs) }
	defer func() { cli.Made = func(*flag.FlagSet) {} }()
	for _, c := range commands() {
		if c.name == "help" { // no flags: help -h asks for a command called -h
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			sets = nil
			var out bytes.Buffer
			if code := Main([]string{c.name, "-h"}, &out, io.Discard); code != exitOK {
				t.Fatalf("runner %s -h: exit %d", c.name, code)
			}
			if len(sets) != 1 {
				t.Fatalf("runner %s made %d flag sets, want 1", c.name, len(sets))
			}
			sets[0].VisitAll(func(f *flag.Flag) {
				named := regexp.MustCompile(`(^|[\s\[])--?` + regexp.QuoteMeta(f.Name) + `([\s=\]]|$)`)
				if !named.MatchString(out.String()) {
					t.Errorf("runner %s -h does not name --%s; add it to usage/%s.txt", c.name, f.Name, c.name)
				}
			})
		})
	}
}
