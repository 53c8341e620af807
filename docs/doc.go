// Package docs holds the reference documentation (the Markdown pages of this
// folder) and the tests that keep it honest: every relative link of README.md and
// docs/*.md resolves, and the import invariants that architecture.md and the
// package docs state hold.
package docs
