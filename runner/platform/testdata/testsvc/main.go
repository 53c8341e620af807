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
	"path/filepath"
	"slices"
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
	g, limit, err := memCgroup()
	if err != nil {
		log.Fatalf("testsvc: HOLD_AT_LIMIT: %v", err)
	}
	const holdMargin = 0.02
	for {
		used, err := g.usage()
		if err != nil {
			log.Fatalf("testsvc: %v", err)
		}
		if float64(used) >= (1-holdMargin)*float64(limit) {
			break
		}
		touch(min(64<<10, int(float64(limit)*(1-holdMargin))-int(used)+4096))
	}
	used, _ := g.usage()
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

// cgroup is a memory cgroup's folder, and its files' names in its version.
type cgroup struct {
	dir               string
	limit, used, stat string
}

// memCgroup finds the memory cgroup that limits this process: its own, as
// /proc/self/cgroup names it (the local platform's), else the one mounted at
// /sys/fs/cgroup (a container's), in cgroup v2 or v1.
func memCgroup() (cgroup, int64, error) {
	var dirs []string
	data, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		switch {
		case len(parts) != 3:
		case parts[1] == "":
			dirs = append(dirs, "/sys/fs/cgroup"+parts[2])
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			dirs = append(dirs, "/sys/fs/cgroup/memory"+parts[2])
		}
	}
	dirs = append(dirs, "/sys/fs/cgroup", "/sys/fs/cgroup/memory")
	for _, dir := range dirs {
		for _, g := range []cgroup{
			{dir: dir, limit: "memory.max", used: "memory.current", stat: "memory.stat"},
			{dir: dir, limit: "memory.limit_in_bytes", used: "memory.usage_in_bytes", stat: "memory.stat"},
		} {
			if limit, err := g.read(g.limit); err == nil && limit > 0 && limit < 1<<40 {
				return g, limit, nil
			}
		}
	}
	return cgroup{}, 0, fmt.Errorf("no cgroup memory limit found in %v", dirs)
}

// read reads a number from one of g's files; "max" is 0.
func (g cgroup) read(name string) (int64, error) {
	data, err := os.ReadFile(filepath.Join(g.dir, name))
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// usage is the cgroup's memory usage less its inactive file cache, as docker
// stats computes it: the hierarchy's (v1), else the group's own (v2).
func (g cgroup) usage() (int64, error) {
	used, err := g.read(g.used)
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile(filepath.Join(g.dir, g.stat))
	if err != nil {
		return used, nil
	}
	stat := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, " ")
		stat[k], _ = strconv.ParseInt(v, 10, 64)
	}
	inactive, ok := stat["total_inactive_file"]
	if !ok {
		inactive = stat["inactive_file"]
	}
	if inactive < used {
		used -= inactive
	}
	return used, nil
}
