package inference

import (
	"slices"
	"testing"
	"time"
)

// generate runs one sequence to its end and returns its tokens.
func generate(t *testing.T, e *Engine, r GenRequest) []int {
	t.Helper()
	seq, err := e.Submit(r)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for ev := range seq.Events {
		if ev.Token >= 0 {
			got = append(got, ev.Token)
		}
	}
	return got
}

// TestSpareCachesReused: a sequence that ends leaves its cache for the next one of
// the same length, whose tokens are those of a fresh cache (what the previous
// sequence left beyond the new one's positions is never read).
func TestSpareCachesReused(t *testing.T) {
	m := testLLM(t)
	long := GenRequest{Prompt: m.Encode("Whatever you do, do it "), MaxTokens: 20, IgnoreEOS: true, Sampling: Sampling{Temperature: 0.8, Seed: 7}}
	short := GenRequest{Prompt: m.Encode("Fortune "), MaxTokens: 35, IgnoreEOS: true, Sampling: Sampling{Temperature: 0.8, Seed: 9}}
	if len(long.Prompt)+long.MaxTokens != len(short.Prompt)+short.MaxTokens {
		t.Fatal("the two requests must need caches of one length")
	}
	want := generate(t, NewEngine(m, EngineConfig{}, nil), short)

	e := NewEngine(m, EngineConfig{}, nil)
	n := len(long.Prompt) + long.MaxTokens
	generate(t, e, long)
	first := kept(t, e, n)
	got := generate(t, e, short)
	if again := kept(t, e, n); again != first {
		t.Error("the second sequence did not reuse the first one's cache")
	}
	if !slices.Equal(got, want) {
		t.Errorf("on a kept cache %v, on a fresh one %v", got, want)
	}
}

// kept waits until e has no sequence left and returns the one cache it keeps, of n
// positions.
func kept(t *testing.T, e *Engine, n int) *KVCache {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		running, waiting, used := e.Stats()
		if running == 0 && waiting == 0 && used == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d running, %d waiting, %d bytes reserved", running, waiting, used)
		}
		time.Sleep(time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.spare.count != 1 || e.spare.bytes != e.m.KVBytes(n) || len(e.spare.free[n]) != 1 {
		t.Fatalf("%d caches kept, %d bytes; want one of %d positions", e.spare.count, e.spare.bytes, n)
	}
	return e.spare.free[n][0]
}

// TestSpareCachesWithinLimit: kept caches and reservations together stay within
// the KV-cache limit, and kept ones are dropped before a reservation needs their room.
func TestSpareCachesWithinLimit(t *testing.T) {
	m := testLLM(t)
	var sc spareCaches
	size := m.KVBytes(10)
	sc.put(m, m.NewCache(10), 3*size, 8)
	sc.put(m, m.NewCache(10), 3*size, 8)
	sc.put(m, m.NewCache(10), 3*size, 8)
	if sc.count != 3 || sc.bytes != 3*size {
		t.Fatalf("kept %d caches, %d bytes; want 3", sc.count, sc.bytes)
	}
	sc.put(m, m.NewCache(10), 3*size, 8)
	if sc.count != 3 {
		t.Errorf("kept %d caches past the room of 3", sc.count)
	}
	sc.put(m, m.NewCache(20), 10*size, 3)
	if sc.count != 3 {
		t.Errorf("kept %d caches past the cap of 3", sc.count)
	}
	// A reservation of another length leaves room for one kept cache.
	c := sc.take(m, 20, size)
	if c.Cap() != 20 || sc.count != 1 || sc.bytes != size {
		t.Errorf("after a new reservation: cap %d, kept %d caches, %d bytes; want 20, 1, %d", c.Cap(), sc.count, sc.bytes, size)
	}
	if c := sc.take(m, 10, 0); c.Len() != 0 || sc.count != 0 || sc.bytes != 0 {
		t.Errorf("taking the last kept cache: len %d, kept %d, %d bytes", c.Len(), sc.count, sc.bytes)
	}
}
