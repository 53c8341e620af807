// Command streambench measures the cost of reading streamed answers (Server-Sent
// Events): the load generator's CPU per 1,000 tokens with the runner's SSE
// reader against a plain bufio.Scanner loop over the same stream, and the
// generator's memory holding many concurrent streams. scripts/bench-stream.sh
// runs it, with Python aiohttp beside it.
//
//	streambench serve -addr 127.0.0.1:0 -tokens 1000 [-gap 0]   print the URL, serve until killed
//	streambench read -url URL -reader sse|scanner -streams 200  CPU per 1,000 tokens
//	streambench hold -url URL -streams 10000 -duration 20s      peak RSS with that many streams open
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/infergrid/runner/runner/load"
	"github.com/infergrid/runner/runner/load/sse"
	"github.com/infergrid/runner/runner/load/sse/ssetest"
	"github.com/infergrid/runner/runner/result"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: streambench serve|read|hold [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "read":
		err = read(os.Args[2:])
	case "hold":
		err = hold(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	tokens := fs.Int("tokens", 1000, "tokens per answer")
	gap := fs.Duration("gap", 0, "time between tokens")
	first := fs.Duration("first", 0, "time to the first token")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	s := &http.Server{Handler: &ssetest.Server{Tokens: *tokens, Gap: *gap, First: *first, Chat: true, Usage: true}}
	return s.Serve(ln)
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// read fetches streams answers one after the other and prints the CPU per
// 1,000 tokens of the reading process.
func read(args []string) error {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	url := fs.String("url", "", "stream URL")
	reader := fs.String("reader", "sse", "sse (the runner's reader) or scanner (a plain bufio.Scanner loop)")
	streams := fs.Int("streams", 200, "answers to read")
	fs.Parse(args)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	body := `{"messages":[{"role":"user","content":"hi"}],"stream":true}`
	var tokens int
	c0, t0 := cpuTime(), time.Now()
	for range *streams {
		resp, err := client.Post(*url, "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		n, err := readOne(*reader, resp)
		resp.Body.Close()
		if err != nil {
			return err
		}
		tokens += n
	}
	cpu, wall := cpuTime()-c0, time.Since(t0)
	fmt.Printf("%s\t%d tokens\t%.1f µs CPU per 1000 tokens\t%.0f tokens/s\n", *reader, tokens,
		float64(cpu.Microseconds())*1000/float64(tokens), float64(tokens)/wall.Seconds())
	return nil
}

func readOne(reader string, resp *http.Response) (int, error) {
	switch reader {
	case "sse":
		if err := sse.Check(resp.StatusCode, resp.Header.Get("Content-Type")); err != nil {
			return 0, err
		}
		st, err := sse.Read(resp.Body, sse.Options{}, func(time.Time) {})
		return st.Tokens, err
	case "scanner":
		// What a hand-written client does at the least: split lines, count data
		// lines, stop at [DONE]; no JSON, no timing.
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			line := sc.Bytes()
			if len(line) > 6 && string(line[:6]) == "data: " {
				if string(line[6:]) == "[DONE]" {
					break
				}
				n++
			}
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return n - 2, sc.Err() // the role chunk and the usage event carry no token
	}
	return 0, fmt.Errorf("unknown reader %q", reader)
}

// hold runs the closed model with streams users against a slow stream and
// prints the generator's peak RSS.
func hold(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	url := fs.String("url", "", "base URL of a slow streaming server")
	streams := fs.Int("streams", 10000, "concurrent streams (closed-model users)")
	duration := fs.Duration("duration", 20*time.Second, "measured time")
	fs.Parse(args)
	l, err := load.Run(context.Background(), load.Config{
		Targets: []string{*url}, Users: *streams, SpawnRate: float64(*streams) / 5, Duration: *duration,
		Timeout: time.Minute, Stream: true, Method: http.MethodPost, Path: "/v1/chat/completions",
	})
	if err != nil {
		return err
	}
	fmt.Printf("streams\t%d\tpeak in flight\t%d\tpeak RSS\t%.0f MiB\trequests\t%d\terrors\t%d\ttokens\t%d\n", *streams,
		l.PeakInFlight, float64(l.GeneratorPeakRSSBytes)/(1<<20), l.Requests, l.Requests-uint64(float64(l.Requests)*l.SuccessRatio+0.5),
		streamTokens(l.Stream))
	for m, n := range l.Errors {
		fmt.Printf("error\t%d\t%s\n", n, m)
	}
	return nil
}

func streamTokens(s *result.Stream) uint64 {
	if s == nil {
		return 0
	}
	return s.OutputTokens
}
