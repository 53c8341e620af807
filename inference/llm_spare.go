package inference

// spareCaches keeps the KV caches of sequences that ended, by length, for the next
// sequences of the same length. A new cache is fresh memory that the first writes
// of its keys and values fault in and pull through the CPU's caches; a kept one is
// already there. The kept caches count against the KV-cache limit like reserved
// ones: they are dropped (left to the garbage collector) before a reservation
// would take their room.
type spareCaches struct {
	free  map[int][]*KVCache // by capacity in positions
	bytes int64
	count int
}

// take returns a cache of n positions, a kept one when there is one; room is the
// limit less the reservations, the new one's included.
func (sc *spareCaches) take(m *LLM, n int, room int64) *KVCache {
	if l := sc.free[n]; len(l) > 0 {
		c := l[len(l)-1]
		l[len(l)-1] = nil // the slot must not hold the cache once it is in use
		sc.free[n] = l[:len(l)-1]
		sc.bytes -= m.KVBytes(n)
		sc.count--
		c.n = 0
		sc.trim(m, room)
		return c
	}
	sc.trim(m, room)
	return m.NewCache(n)
}

// put keeps c when it fits in room (the limit less the reservations) and fewer
// than most caches are kept.
func (sc *spareCaches) put(m *LLM, c *KVCache, room int64, most int) {
	if c == nil {
		return
	}
	size := m.KVBytes(c.cap)
	if sc.count >= most || sc.bytes+size > room {
		return
	}
	if sc.free == nil {
		sc.free = map[int][]*KVCache{}
	}
	sc.free[c.cap] = append(sc.free[c.cap], c)
	sc.bytes += size
	sc.count++
}

// trim drops kept caches until they fit in room.
func (sc *spareCaches) trim(m *LLM, room int64) {
	for n, l := range sc.free {
		for sc.bytes > room && len(l) > 0 {
			l[len(l)-1] = nil
			l = l[:len(l)-1]
			sc.bytes -= m.KVBytes(n)
			sc.count--
		}
		sc.free[n] = l
		if sc.bytes <= room {
			return
		}
	}
}
