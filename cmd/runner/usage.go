package main

import (
	"embed"
	"fmt"
	"io"
	"strings"
)

// usageFiles are the usage texts of the commands, usage/COMMAND.txt, and of
// runner itself, usage/runner.txt. A newFlags text puts the options where it
// says OPTIONS; runner.txt lists the commands where it says COMMANDS.
//
//go:embed usage/*.txt
var usageFiles embed.FS

// usageText is the usage text of command name.
func usageText(name string) string {
	b, err := usageFiles.ReadFile("usage/" + name + ".txt")
	if err != nil {
		panic(err) // the files are embedded: a test runs every command's -h
	}
	return string(b)
}

// usage prints runner's own usage: the commands and what they do.
func usage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, strings.Replace(usageText("runner"), "COMMANDS\n", b.String(), 1))
}
