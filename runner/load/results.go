package load

import (
	"errors"
	"fmt"
	"io"
	"os"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// CountResults reads a raw results file (ResultsPath) and returns how many
// records it holds before the first error: nil at a clean end, an error wrapping
// io.ErrUnexpectedEOF when the file was cut mid-record (a crash mid-write).
func CountResults(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		if r.Timestamp.IsZero() {
			return n, fmt.Errorf("record %d has no timestamp", n)
		}
		n++
	}
}
