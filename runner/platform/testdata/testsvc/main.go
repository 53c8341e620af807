// Command testsvc is the tiny service the platform tests start: it answers
// GET /health, and on request allocates memory, burns CPU or exits, so tests can
// provoke OOM kills, load and crashes. It listens on -addr, else $ADDR, else
// :$PORT, else :8000.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
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
