package sse

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchdog calls abort when kick was not called for longer than limit. kick is
// one clock read and an atomic store, cheap enough for every line; the timer
// re-arms itself for the time left instead of being reset on every kick.
type watchdog struct {
	limit  time.Duration
	base   time.Time
	last   atomic.Int64 // nanoseconds since base of the last kick
	abort  func()
	mu     sync.Mutex
	timer  *time.Timer
	done   bool
	firedF atomic.Bool
}

func newWatchdog(limit time.Duration, abort func()) *watchdog {
	w := &watchdog{limit: limit, base: time.Now(), abort: abort}
	w.timer = time.AfterFunc(limit, w.check)
	return w
}

func (w *watchdog) kick() { w.last.Store(int64(time.Since(w.base))) }

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	idle := time.Since(w.base) - time.Duration(w.last.Load())
	if idle < w.limit {
		w.timer.Reset(w.limit - idle)
		return
	}
	w.done = true
	w.firedF.Store(true)
	if w.abort != nil {
		w.abort()
	}
}

func (w *watchdog) fired() bool { return w.firedF.Load() }

func (w *watchdog) stop() {
	w.mu.Lock()
	w.done = true
	w.timer.Stop()
	w.mu.Unlock()
}
