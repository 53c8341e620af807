// Package load drives HTTP load with the vegeta library: open (arrival-rate) and
// closed (Locust-like users) models, balancing over replicas, and trustworthy metrics. It
// is the only package that imports vegeta.
package load
