package load

import (
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// spawnAt returns when user i (0-based) starts: users start at rate per second,
// the first at once; rate 0 starts all at once.
func spawnAt(i int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(i) / rate * float64(time.Second))
}

// runClosed runs the closed model: users started at SpawnRate, each looping
// request, response, think, until Warmup+Duration is over or the run is halted.
// A thinking user is a pending timer, not a goroutine, so only users with a
// request in flight hold a goroutine (and a connection).
func (e *engine) runClosed() {
	c := e.c
	var (
		users    sync.WaitGroup
		seq      atomic.Uint64
		stopping atomic.Bool
		all      []*user
	)
	stop := make(chan struct{})
	spawnerDone := make(chan struct{})
	go func() {
		defer close(spawnerDone)
		for i := 0; i < c.Users; i++ {
			if d := time.Until(e.start.Add(spawnAt(i, c.SpawnRate))); d > 0 {
				timer := time.NewTimer(d)
				select {
				case <-timer.C:
				case <-stop:
					timer.Stop()
					return
				}
			}
			select {
			case <-stop:
				return
			default:
			}
			u := &user{e: e, seq: &seq, stopping: &stopping, done: users.Done}
			all = append(all, u)
			e.spawned = append(e.spawned, time.Now())
			e.started.Add(1)
			users.Add(1)
			go u.run()
		}
	}()
	end := e.measureStart.Add(c.Duration)
	e.sleepUntil(end)
	e.stopped = earliest(time.Now(), end)
	stopping.Store(true)
	close(stop)
	<-spawnerDone
	for _, u := range all {
		u.wake()
	}
	users.Wait()
	close(e.out)
}

// user is one closed-model user: it sends a request, waits for the whole
// response, thinks, and repeats until stopping.
type user struct {
	e        *engine
	seq      *atomic.Uint64
	stopping *atomic.Bool
	done     func()

	mu    sync.Mutex
	timer *time.Timer // pending while the user thinks
}

// run sends requests until the user has to think or stop; a think schedules run
// again on a timer and returns.
func (u *user) run() {
	c := u.e.c
	for {
		if u.stopping.Load() {
			u.done()
			return
		}
		x := &exchange{seq: u.seq.Add(1) - 1}
		u.e.pick(x)
		u.e.hit(x)
		u.e.out <- x
		think := c.ThinkMin
		if c.ThinkMax > c.ThinkMin {
			think += rand.N(c.ThinkMax - c.ThinkMin + 1)
		}
		if think <= 0 {
			continue
		}
		u.mu.Lock()
		if u.stopping.Load() {
			u.mu.Unlock()
			u.done()
			return
		}
		if u.timer == nil {
			u.timer = time.AfterFunc(think, u.run)
		} else {
			u.timer.Reset(think)
		}
		u.mu.Unlock()
		return
	}
}

// wake ends a thinking user's think at once, once stopping is set.
func (u *user) wake() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.timer != nil && u.timer.Stop() {
		u.done() // its run will not be called again
	}
}

// usersAt returns how many users had started by t. Call it after the run.
func (e *engine) usersAt(t time.Time) int {
	return sort.Search(len(e.spawned), func(i int) bool { return e.spawned[i].After(t) })
}
