package load

import (
	"slices"
	"testing"
	"time"
)

// TestPreciseClock sleeps on the pacing loop's clock and checks that it never
// wakes before the time asked (the early wake-up it learns is spent yielding,
// not sending), that its learned lead stays within maxSpin, and that a halt ends
// a sleep at once.
func TestPreciseClock(t *testing.T) {
	halted := make(chan struct{})
	clk, stop := newClock(halted)
	defer stop()
	pc, ok := clk.(*preciseClock)
	if !ok {
		t.Skip("no timerfd here: the pacing loop uses the wall clock")
	}
	var late []time.Duration
	for range 200 {
		at := time.Now().Add(300 * time.Microsecond)
		if !clk.SleepUntil(at) {
			t.Fatal("SleepUntil reported a halt")
		}
		d := time.Since(at)
		if d < 0 {
			t.Fatalf("woke %s before the time asked", -d)
		}
		late = append(late, d)
	}
	if pc.late < 0 || pc.late > maxSpin {
		t.Errorf("learned lead %s, want within [0, %s]", pc.late, maxSpin)
	}
	slices.Sort(late)
	t.Logf("late p50 %s, p99 %s, lead learned %s", late[len(late)/2], late[len(late)*99/100], pc.late)

	close(halted)
	start := time.Now()
	if clk.SleepUntil(time.Now().Add(10 * time.Second)) {
		t.Error("SleepUntil did not report the halt")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a halted sleep took %s", d)
	}
}
