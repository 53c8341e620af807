package load

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// fdTimer is a one-shot Linux timerfd read through Go's network poller: a
// goroutine waiting on it wakes within microseconds of the deadline, where a
// time.Timer can wake up to a millisecond late (the poller's epoll_wait
// timeout has millisecond resolution), and no thread sleeps or spins.
type fdTimer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

type itimerspec struct {
	interval, value syscall.Timespec
}

func newFDTimer() (*fdTimer, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return nil, os.NewSyscallError("timerfd_create", errno)
	}
	// A non-blocking descriptor: os.NewFile registers it with the poller.
	return &fdTimer{fd: int(fd), f: os.NewFile(fd, "timerfd")}, nil
}

// sleep waits d (positive); it returns false if interrupt was called first.
func (t *fdTimer) sleep(d time.Duration) bool {
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(t.fd), 0,
		uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		time.Sleep(d)
		return true
	}
	_, err := t.f.Read(t.buf[:])
	return !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, os.ErrClosed)
}

// interrupt ends a sleep in progress, and every later one, at once.
func (t *fdTimer) interrupt() { _ = t.f.SetReadDeadline(time.Unix(1, 0)) }

func (t *fdTimer) close() { _ = t.f.Close() }
