package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// body is a small JSON answer, the size of a one-row model prediction.
var body = []byte(`{"prediction":[0.4871],"model":"bench"}` + "\n")

// serve answers every request with body until killed.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	delay := fs.Duration("delay", 0, "time to wait before answering, like a slow model")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *delay > 0 {
			time.Sleep(*delay)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return http.Serve(ln, h)
}
