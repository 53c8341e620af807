package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"sync"
	"time"
)

// DefaultMaxLineBytes is the longest event line Read accepts when
// Options.MaxLineBytes is 0.
const DefaultMaxLineBytes = 1 << 20

// bufferBytes is the read buffer of one stream; longer lines grow a separate
// slice up to the cap, so 10,000 open streams hold 10,000 small buffers.
const bufferBytes = 4 << 10

// The error classes of a stream. Read and Check wrap them with details; callers
// test them with errors.Is.
var (
	// ErrStatus: the answer's HTTP status is not 2xx.
	ErrStatus = errors.New("stream: status is not 2xx")
	// ErrNotEventStream: the answer's Content-Type is not text/event-stream.
	ErrNotEventStream = errors.New("stream: answer is not an event stream")
	// ErrNoDone: the stream ended after a complete event but without [DONE].
	ErrNoDone = errors.New("stream: ended without [DONE]")
	// ErrCutEvent: the stream ended in the middle of an event.
	ErrCutEvent = errors.New("stream: ended in the middle of an event")
	// ErrStall: no byte arrived for longer than Options.Stall.
	ErrStall = errors.New("stream: stalled")
	// ErrMalformed: an event's data starts like JSON but is not valid JSON.
	ErrMalformed = errors.New("stream: malformed event: data is not valid JSON")
	// ErrLineTooLong: an event line is longer than Options.MaxLineBytes.
	ErrLineTooLong = errors.New("stream: event line too long")
	// ErrServer: the server sent an error event ({"error": ...}).
	ErrServer = errors.New("stream: error event from the server")
)

// Check returns nil when status and contentType are those of an event stream:
// a 2xx status and Content-Type text/event-stream.
func Check(status int, contentType string) error {
	if status < 200 || status > 299 {
		return fmt.Errorf("%w: %d", ErrStatus, status)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "text/event-stream" {
		return fmt.Errorf("%w (Content-Type %q)", ErrNotEventStream, contentType)
	}
	return nil
}

// Options tune Read. The zero value is valid.
type Options struct {
	// MaxLineBytes caps one event line; 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Stall fails the stream when no byte arrives for this long; 0 means no limit.
	// Read calls Abort to unblock the body's Read, so Abort must make it return
	// (closing the body or cancelling its request does).
	Stall time.Duration
	// Abort is called once when the stream stalls.
	Abort func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Stream is what Read saw of one answer.
type Stream struct {
	// Events counts the data events, [DONE] excluded.
	Events int
	// Tokens counts the events that carried content.
	Tokens int
	// UsageTokens is usage.completion_tokens from the last event that carried it;
	// -1 when none did.
	UsageTokens int
	// First and Last are when the first and the last token arrived; zero without tokens.
	First, Last time.Time
	// Done is true when [DONE] arrived.
	Done bool
	// Bytes counts the bytes read.
	Bytes int64
}

// OutputTokens is the answer's token count: UsageTokens when the server sent
// it, else Tokens.
func (s Stream) OutputTokens() int {
	if s.UsageTokens >= 0 {
		return s.UsageTokens
	}
	return s.Tokens
}

var buffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufferBytes) }}

// Read reads body as Server-Sent Events until [DONE], the end of body or an
// error, and calls onToken (when not nil) with the arrival time of every token.
// It returns what it saw and, unless the stream ended with [DONE], an error
// wrapping one of the package's sentinels (or body's own read error).
func Read(body io.Reader, o Options, onToken func(time.Time)) (Stream, error) {
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	br := buffers.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() { br.Reset(nil); buffers.Put(br) }()
	p := parser{o: o, onToken: onToken, st: Stream{UsageTokens: -1}}
	if o.Stall > 0 {
		p.stall = newWatchdog(o.Stall, o.Abort)
		defer p.stall.stop()
	}
	err := p.run(br)
	if p.stall != nil && p.stall.fired() {
		err = fmt.Errorf("%w: no byte for %s", ErrStall, o.Stall)
	}
	return p.st, err
}

// parser is the state of one Read.
type parser struct {
	o       Options
	onToken func(time.Time)
	st      Stream
	stall   *watchdog
	long    []byte // a line longer than the buffer, being assembled
	data    []byte // the pending event's data lines, joined by \n
	hasData bool
	inEvent bool // a field line was read since the last dispatch
}

func (p *parser) run(br *bufio.Reader) error {
	for {
		line, err := p.line(br)
		if err != nil {
			if err == io.EOF {
				return p.eof(line)
			}
			return err
		}
		done, err := p.field(trimEOL(line))
		if err != nil || done {
			return err
		}
	}
}

// eof handles the end of the body; rest is an unterminated last line.
func (p *parser) eof(rest []byte) error {
	if len(rest) > 0 || p.inEvent {
		return ErrCutEvent
	}
	return ErrNoDone
}

// line returns the next line with its end of line, or at EOF the unterminated rest.
func (p *parser) line(br *bufio.Reader) ([]byte, error) {
	p.long = p.long[:0]
	for {
		b, err := br.ReadSlice('\n')
		p.st.Bytes += int64(len(b))
		if p.stall != nil && len(b) > 0 {
			p.stall.kick()
		}
		if err == bufio.ErrBufferFull {
			if len(p.long)+len(b) > p.o.MaxLineBytes {
				return nil, fmt.Errorf("%w: over %d bytes", ErrLineTooLong, p.o.MaxLineBytes)
			}
			p.long = append(p.long, b...)
			continue
		}
		if len(p.long) > 0 {
			p.long = append(p.long, b...)
			b = p.long
		}
		if len(b) > p.o.MaxLineBytes {
			return nil, fmt.Errorf("%w: over %d bytes", ErrLineTooLong, p.o.MaxLineBytes)
		}
		return b, err
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

var dataField = []byte("data")

// field handles one line; done is true after [DONE].
func (p *parser) field(line []byte) (done bool, err error) {
	if len(line) == 0 {
		return p.dispatch()
	}
	p.inEvent = true
	if line[0] == ':' { // a comment, e.g. a keep-alive
		return false, nil
	}
	name, value, _ := bytes.Cut(line, []byte{':'})
	if !bytes.Equal(name, dataField) {
		return false, nil // event, id, retry: nothing to time
	}
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	if p.hasData {
		p.data = append(p.data, '\n')
	}
	p.data = append(p.data, value...)
	p.hasData = true
	return false, nil
}

var doneData = []byte("[DONE]")

// dispatch ends the pending event.
func (p *parser) dispatch() (done bool, err error) {
	p.inEvent = false
	if !p.hasData {
		return false, nil
	}
	data := p.data
	p.data, p.hasData = p.data[:0], false
	if bytes.Equal(bytes.TrimSpace(data), doneData) {
		p.st.Done = true
		return true, nil
	}
	p.st.Events++
	c, err := classify(data)
	if err != nil {
		return false, err
	}
	if c.usage >= 0 {
		p.st.UsageTokens = c.usage
	}
	if c.token {
		now := p.o.Now()
		if p.st.Tokens == 0 {
			p.st.First = now
		}
		p.st.Last = now
		p.st.Tokens++
		if p.onToken != nil {
			p.onToken(now)
		}
	}
	return false, nil
}
