// Command testsvc is the tiny service the platform tests start: it answers
// GET /health, and on request allocates memory, burns CPU or exits, so tests can
// provoke OOM kills, load and crashes. It listens on -addr, else $ADDR, else
// :$PORT, else :8000.
//
// With HOLD_AT_LIMIT=DURATION it does not listen: it allocates until its memory
// is at its cgroup's limit, stays there for DURATION, as a service thrashing
// against its limit does, then allocates past it, and the OOM killer ends it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	alloc [][]byte
)

func main() {
	addr := flag.String("addr", "", "listen address")
	flag.Parse()
	if *addr == "" {
		*addr = os.Getenv("ADDR")
	}
	if *addr == "" && os.Getenv("PORT") != "" {
		*addr = ":" + os.Getenv("PORT")
	}
	if *addr == "" {
		*addr = ":8000"
	}
	if code := os.Getenv("EXIT_AT_START"); code != "" {
		n, _ := strconv.Atoi(code)
		fmt.Fprintln(os.Stderr, "testsvc: exiting at start as asked, code", n)
		os.Exit(n)
	}
	if hold := os.Getenv("HOLD_AT_LIMIT"); hold != "" {
		d, err := time.ParseDuration(hold)
		if err != nil {
			log.Fatalf("testsvc: HOLD_AT_LIMIT=%s: %v", hold, err)
		}
		holdAtLimit(d)
	}
	http.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("UNHEALTHY") != "" {
			http.Error(w, "unhealthy as asked", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// POST /alloc?mb=N allocates and touches N MiB and keeps it.
	http.HandleFunc("POST /alloc", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		for range mb {
			b := make([]byte, 1<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			mu.Lock()
			alloc = append(alloc, b)
			mu.Unlock()
		}
		fmt.Fprintln(w, "allocated", mb, "MiB")
	})
	// POST /burn?ms=N spins one CPU for N milliseconds.
	http.HandleFunc("POST /burn", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		end := time.Now().Add(time.Duration(ms) * time.Millisecond)
		x := 0
		for time.Now().Before(end) {
			x++
		}
		fmt.Fprintln(w, "burned", x)
	})
	// POST /exit?code=N exits the process.
	http.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		go func() { time.Sleep(10 * time.Millisecond); os.Exit(code) }()
		fmt.Fprintln(w, "exiting", code)
	})
	log.Printf("testsvc listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// holdAtLimit allocates until the memory the cgroup charges, without its inactive
// file cache (what docker stats shows), is within holdMargin of the limit (closer,
// and the kernel's charge batching makes it an OOM kill already), holds
// that for d, then allocates until the OOM killer ends the process.
func holdAtLimit(d time.Duration) {
	limit, err := readCgroup("memory.max", "memory/memory.limit_in_bytes")
	if err != nil || limit <= 0 || limit > 1<<40 {
		log.Fatalf("testsvc: HOLD_AT_LIMIT needs a cgroup memory limit (read %d, %v)", limit, err)
	}
	const holdMargin = 0.02
	for {
		used, err := usage()
		if err != nil {
			log.Fatalf("testsvc: %v", err)
		}
		if float64(used) >= (1-holdMargin)*float64(limit) {
			break
		}
		touch(min(64<<10, int(float64(limit)*(1-holdMargin))-int(used)+4096))
	}
	used, _ := usage()
	fmt.Fprintf(os.Stderr, "testsvc: at %d of %d bytes; holding for %s\n", used, limit, d)
	time.Sleep(d)
	for {
		touch(1 << 20)
	}
}

// touch allocates n bytes, writes every page and keeps them.
func touch(n int) {
	b := make([]byte, max(n, 4096))
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	mu.Lock()
	alloc = append(alloc, b)
	mu.Unlock()
}

// usage is the cgroup's memory usage less its inactive file cache.
func usage() (int64, error) {
	used, err := readCgroup("memory.current", "memory/memory.usage_in_bytes")
	if err != nil {
		return 0, err
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.stat", "/sys/fs/cgroup/memory/memory.stat"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		stat := map[string]int64{}
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, " ")
			stat[k], _ = strconv.ParseInt(v, 10, 64)
		}
		// docker stats' choice: the hierarchy's (v1), else the group's own (v2)
		inactive, ok := stat["total_inactive_file"]
		if !ok {
			inactive = stat["inactive_file"]
		}
		if inactive < used {
			used -= inactive
		}
		break
	}
	return used, nil
}

// readCgroup reads a number from the cgroup v2 file, else the v1 file.
func readCgroup(v2, v1 string) (int64, error) {
	data, err := os.ReadFile("/sys/fs/cgroup/" + v2)
	if err != nil {
		if data, err = os.ReadFile("/sys/fs/cgroup/" + v1); err != nil {
			return 0, err
		}
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}
