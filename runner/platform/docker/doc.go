// Package docker is the runner's access to the Docker Engine API: it checks that a
// daemon answers, builds the service image once per run, finds a stack's containers
// by label, reads their stats, logs and events, manages the external network, and
// sweeps away everything carrying a label. It is the only package that imports the
// Docker client library (github.com/moby/moby/client), which negotiates the API
// version and so talks to daemons from API 1.40 (Docker 19.03) on.
package docker
