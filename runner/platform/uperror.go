package platform

import "github.com/infergrid/runner/runner/result"

// UpError is an Up failure together with what the platform saw of the stack
// before removing it: the events (OOM kills, exits, restarts, failed health) of a
// stack that failed during up or health are the scenario's data like those of one
// that fails under load.
type UpError struct {
	Err error
	// Events are the stack's events, in time order.
	Events []result.Event
}

func (e *UpError) Error() string { return e.Err.Error() }
func (e *UpError) Unwrap() error { return e.Err }
