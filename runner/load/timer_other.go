//go:build !linux

package load

import (
	"errors"
	"time"
)

// fdTimer is Linux only; elsewhere the pacing loop sleeps on time.Timer.
type fdTimer struct{}

func newFDTimer() (*fdTimer, error)         { return nil, errors.New("no timerfd") }
func (t *fdTimer) sleep(time.Duration) bool { return true }
func (t *fdTimer) interrupt()               {}
func (t *fdTimer) close()                   {}
