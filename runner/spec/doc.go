// Package spec reads scenario files: YAML types, defaults, validation with
// FILE:LINE:COL errors, and expansion of the experiment grid into scenarios.
package spec
