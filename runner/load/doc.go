// Package load drives HTTP load: open (arrival-rate) and closed (Locust-like
// users) models, balancing over replicas, and trustworthy metrics. It is the
// only package that imports vegeta, whose Pacer interface paces the open model
// and whose gob format holds the raw results.
//
// Run takes a Config and returns a result.Load. Its steps are: open the results
// file (results), build the clients (buildClients: one keep-alive pool per
// endpoint, our own HTTP/1.1 client), start the model, collect (collector),
// finish (the metrics and their honesty notes).
//
//   - Open model (Rate, or RampFrom..RampTo): a pacing loop (pace) asks a vegeta
//     Pacer (ConstantPacer, or LinearPacer with an exact Pace) when each hit is
//     due and hands it to a worker (workers): an idle one, a new one, or, at
//     MaxWorkers, the first to free up. Latency is measured from each request's
//     intended send time, so a generator that fell behind (coordinated omission)
//     cannot hide latency; the actual-send figures, which the raw file holds,
//     are given in the notes.
//   - Closed model (Users, SpawnRate, ThinkMin..ThinkMax): one goroutine per user
//     with a request in flight, started at SpawnRate per second, each sending its
//     next request only after the previous response and a think time; a
//     thinking user is a timer. The pools keep at most Users connections per
//     endpoint.
//
// # The hit path
//
// Both models send every request through one path, an *exchange:
//
//  1. engine.pick fills the request: the target, the body (per-request body
//     selection: cycled, random, or a weighted mix), and the request's name for
//     per-name accounting.
//  2. engine.hit sends it on the target's pool and reads the response. The
//     body goes through engine.read, a bodyReader: the hook for readers that
//     look inside a body, such as server-sent events (time to first token,
//     inter-token latency). Its contract is on the bodyReader type: called on
//     the sending goroutine once the headers are in, body capped and under the
//     request deadline; it reads to the end or returns the error that stopped
//     it, returns the bytes read, and writes only into its own exchange.
//  3. The model sends the exchange to the collector, which folds it into the
//     metrics and the raw file on one goroutine; per-request fields the reader
//     recorded (and the name) are read there.
//
// Requests sent during Warmup are excluded from the metrics and written to the
// raw results with Attack "warmup"; measured ones have Attack "measure". The raw
// results are vegeta's gob format, streamed to Config.ResultsPath, so `vegeta
// report` and `vegeta plot` read them. Percentiles come from a log-linear
// histogram within MaxRelativeError of the exact nearest-rank value; mean and max
// are exact.
//
// Search finds the capacity (the highest constant rate meeting an SLO) with a
// searcher: widen (doubling the rate while steps pass), bisect (between the
// highest passing and the lowest failing rate), verdict (the reason in words).
package load
