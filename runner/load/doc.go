// Package load drives HTTP load with the vegeta library: open (arrival-rate) and
// closed (Locust-like users) models, balancing over replicas, and trustworthy
// metrics. It is the only package that imports vegeta.
//
// Run takes a Config and returns a result.Load:
//
//   - Open model (Rate, or RampFrom..RampTo): a vegeta Attacker per phase paced by
//     vegeta's ConstantPacer (or LinearPacer with an exact Pace), capped at
//     MaxWorkers. Latency is measured from each request's intended send time, so
//     a generator that fell behind (coordinated omission) cannot hide latency;
//     the actual-send figures, which the raw file holds, are given in the notes.
//   - Closed model (Users, SpawnRate, ThinkMin..ThinkMax): one goroutine per user,
//     started at SpawnRate per second, each sending its next request only after
//     the previous response and a think time, over one shared transport that
//     keeps at most Users connections per endpoint.
//
// Requests sent during Warmup are excluded from the metrics and written to the
// raw results with Attack "warmup"; measured ones have Attack "measure". The raw
// results are vegeta's gob format, streamed to Config.ResultsPath, so `vegeta
// report` and `vegeta plot` read them. Percentiles come from a log-linear
// histogram within MaxRelativeError of the exact nearest-rank value; mean and max
// are exact.
package load
