// Package composetemplates embeds the default compose templates, so the runner
// binary renders compose files without its source tree. A scenario file can name
// its own template (service.template); see runner/render for the data it gets.
package composetemplates

import "embed"

// FS holds every *.yml.tmpl file of this folder.
//
//go:embed *.yml.tmpl
var FS embed.FS

// Default is the name of the default template in FS.
const Default = "default.yml.tmpl"
