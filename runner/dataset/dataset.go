package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMaxBytes is the largest dataset file Read accepts: 2 GiB (line offsets
// are 32-bit).
const DefaultMaxBytes = 2 << 30

// maxLineErrors is how many bad lines a validation error lists.
const maxLineErrors = 10

// ErrEmpty is returned for a dataset without a single non-blank line.
var ErrEmpty = errors.New("dataset is empty: want one request body per line")

// Dataset is a list of request bodies held in one byte slice.
type Dataset struct {
	data []byte
	ends []uint32 // line i is data[ends[i-1]:ends[i]]
}

// New returns a dataset of the given bodies (copied).
func New(bodies [][]byte) *Dataset {
	d := &Dataset{}
	for _, b := range bodies {
		d.data = append(d.data, b...)
		d.ends = append(d.ends, uint32(len(d.data)))
	}
	return d
}

// Len is the number of bodies.
func (d *Dataset) Len() int { return len(d.ends) }

// Line returns body i, 0 <= i < Len. The caller must not modify it.
func (d *Dataset) Line(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.data[start:d.ends[i]:d.ends[i]]
}

// Bytes is the memory the bodies hold: data and offsets.
func (d *Dataset) Bytes() int64 { return int64(cap(d.data)) + 4*int64(cap(d.ends)) }

// Options tune Read and Parse.
type Options struct {
	// JSON checks that every line is a JSON value (when the requests' content
	// type is JSON).
	JSON bool
	// MaxBytes caps the file; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Read reads a JSON Lines file: one request body per line, blank lines skipped,
// a final newline optional, CRLF line ends accepted. Errors name the file and
// the line (FILE:LINE: ...).
func Read(path string, o Options) (*Dataset, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read dataset: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read dataset: %w", err)
	}
	if fi.Size() > o.MaxBytes {
		return nil, fmt.Errorf("%s: dataset is %d bytes, over the %d-byte cap", path, fi.Size(), o.MaxBytes)
	}
	// One allocation of the file's size (plus one byte to see it grow meanwhile).
	data := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(f, data)
	data = data[:n]
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("cannot read dataset: %w", err)
	}
	return Parse(path, data, o)
}

// Parse splits data (the file's content, which it reuses) into lines; name is the
// file name for errors.
func Parse(name string, data []byte, o Options) (*Dataset, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if int64(len(data)) > o.MaxBytes {
		return nil, fmt.Errorf("%s: dataset is %d bytes, over the %d-byte cap", name, len(data), o.MaxBytes)
	}
	d := &Dataset{data: data[:0]}
	var errs []error
	w := 0 // write position: lines are compacted in place, without line ends
	for n, rest := 1, data; len(rest) > 0; n++ {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		rest = after
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if o.JSON && !json.Valid(line) {
			if len(errs) < maxLineErrors {
				errs = append(errs, fmt.Errorf("%s:%d: line is not a JSON value: %s", name, n, jsonError(line)))
			} else if len(errs) == maxLineErrors {
				errs = append(errs, fmt.Errorf("%s: more lines are not JSON values", name))
			}
			continue
		}
		w += copy(data[w:], line)
		d.ends = append(d.ends, uint32(w))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(d.ends) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	d.data = data[:w]
	d.ends = d.ends[:len(d.ends):len(d.ends)]
	return d, nil
}

// jsonError says why line is not JSON.
func jsonError(line []byte) string {
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}
