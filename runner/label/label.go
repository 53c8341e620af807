// Package label names the Docker labels (and process tags) that mark everything the
// runner creates, so that tests, teardown and `runner clean` can find it again.
package label

const (
	// Managed is set to "true" on every container, network, volume and image the runner creates.
	Managed = "dev.infergrid.runner"
	// Run holds the run ID (NAME-YYYYMMDDTHHMMSSZ).
	Run = "dev.infergrid.runner.run"
	// Scenario holds the scenario ID.
	Scenario = "dev.infergrid.runner.scenario"
	// Context holds the content digest of the build context (and base images) an
	// image was built from: a build with the same digest reuses the image.
	Context = "dev.infergrid.runner.context"
	// Project holds the compose project (or swarm stack) name of the scenario.
	Project = "dev.infergrid.runner.project"
)
