package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

// body is a small JSON answer, the size of a one-row model prediction.
var body = []byte(`{"prediction":[0.4871],"model":"bench"}` + "\n")

// serve answers every request with body until killed.
func serve(args []string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return http.Serve(ln, h)
}
