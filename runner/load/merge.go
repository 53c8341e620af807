package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/infergrid/runner/runner/result"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Merge reads the raw results files (vegeta's gob format, as Config.ResultsPath
// writes them) of several generators that sent one load together, each its
// share from one agreed start, and returns the metrics of the whole recomputed
// from every result: counts add up, and percentiles come from the merged
// latencies, never from averaging each file's. The latency is each request's own
// (vegeta's), as `vegeta report` over the concatenated files gives it. The
// measured window runs from the first to the last measured request's send time;
// warm-up results are counted apart. Endpoints are listed by URL in first-seen
// order.
func Merge(paths []string) (result.Load, error) { return MergeTo(paths, "") }

// MergeTo is Merge that also writes every result, in send-time order, to one
// raw results file at out (none when out is empty): the file a single
// generator would have written.
func MergeTo(paths []string, out string) (result.Load, error) {
	var all []*vegeta.Result
	for _, p := range paths {
		rs, err := decodeResultsFile(p)
		if err != nil {
			return result.Load{}, err
		}
		all = append(all, rs...)
	}
	if out != "" {
		slices.SortStableFunc(all, func(a, b *vegeta.Result) int { return a.Timestamp.Compare(b.Timestamp) })
		rw, err := openResults(Config{ResultsPath: out})
		if err != nil {
			return result.Load{}, err
		}
		for _, r := range all {
			rw.write(r) // as the generator wrote it: its body was cut then
		}
		if err := rw.close(); err != nil {
			return result.Load{}, err
		}
	}
	var urls []string
	first, last := time.Time{}, time.Time{}
	for _, r := range all {
		if !slices.Contains(urls, r.URL) {
			urls = append(urls, r.URL)
		}
		if r.Attack == AttackWarmup {
			continue
		}
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if r.Timestamp.After(last) {
			last = r.Timestamp
		}
	}
	a := newAggregator(first, last.Sub(first)+time.Second, urls, urls, false)
	for _, r := range all {
		a.add(r, r.Latency)
	}
	l := a.load(last, nil)
	l.LatencyFrom = fmt.Sprintf("merged from %d raw results files", len(paths))
	return l, nil
}

// decodeResultsFile decodes every result of one raw results file.
func decodeResultsFile(path string) ([]*vegeta.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read results: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	var out []*vegeta.Result
	for {
		r := new(vegeta.Result)
		err := dec.Decode(r)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: result %d: %w", path, len(out)+1, err)
		}
		out = append(out, r)
	}
}
