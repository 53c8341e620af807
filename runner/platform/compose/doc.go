// Package compose is the platform that runs a scenario as a Docker Compose project:
// it writes the rendered compose file, starts it with `docker compose` (v2) or
// Debian's `docker-compose` (v1, run with --compatibility so that deploy.replicas
// and deploy.resources limits apply), finds each replica's published port through
// the Docker Engine API, waits until every replica is healthy, samples their stats,
// records their events and removes the project again, sweeping by label.
package compose
