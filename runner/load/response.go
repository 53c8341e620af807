package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
)

// maxHeaderBytes caps a response's status line and headers: a target that
// sends endless headers fails the request instead of growing its buffer.
const maxHeaderBytes = 1 << 20

var errHeadersTooLarge = fmt.Errorf("response headers over %d bytes", maxHeaderBytes)

// response is what the hit path reads of a response before its body.
type response struct {
	code        int
	status      string // the status line after the protocol: "200 OK"
	contentType []byte // the first Content-Type value; the connection's, valid until the next response
	close       bool   // the connection ends after this response
	body        io.Reader
}

// respReader reads the responses of one connection. Its own parser reads the
// common response without allocating: a status line and headers that fit the
// read buffer, CRLF line ends, no folded lines, at most one Content-Length and
// one Transfer-Encoding (chunked), no Trailer. It hands anything else to
// net/http's ReadResponse before consuming a byte, so an unusual response is
// read, or refused, exactly as net/http reads it. Both read the body as
// net/http does: the Content-Length (an early end is io.ErrUnexpectedEOF),
// chunks and trailers, or up to the connection's close; none for HEAD, 1xx,
// 204 and 304. Like ReadResponse it returns a 1xx response as the response.
type respReader struct {
	br    *bufio.Reader
	resp  response
	ctype []byte
	fixed fixedBody
	chunk chunkedBody
	std   io.ReadCloser // net/http's body when net/http read the response
}

// read reads the status line and headers of the response to a request of
// req's method.
func (r *respReader) read(req *http.Request) (*response, error) {
	r.std = nil
	head, err := peekHead(r.br)
	if err != nil {
		return nil, err
	}
	if head != nil && r.parse(head, req.Method) {
		_, _ = r.br.Discard(len(head))
		return &r.resp, nil
	}
	resp, err := http.ReadResponse(r.br, req)
	if err != nil {
		return nil, err
	}
	r.ctype = append(r.ctype[:0], resp.Header.Get("Content-Type")...)
	r.resp = response{code: resp.StatusCode, status: resp.Status, contentType: r.ctype, close: resp.Close, body: resp.Body}
	r.std = resp.Body
	return &r.resp, nil
}

// finish ends the response once its body was read (ok) or failed. A body not
// read to its end is, as net/http's Body.Close does, unless the connection
// closes anyway. It reports whether the connection may carry another request:
// the response did not close it, and the server sent nothing more.
func (r *respReader) finish(ok bool) bool {
	keep := ok && !r.resp.close
	if r.std != nil {
		keep = r.std.Close() == nil && keep
		r.std = nil
	} else if keep {
		_, err := io.Copy(io.Discard, r.resp.body)
		keep = err == nil
	}
	return keep && r.br.Buffered() == 0
}

// peekHead returns the status line and headers up to and including the blank
// line (or an empty status line), unread in br, once they are in br's buffer
// with every line ending in CRLF; nil when a line ends in a bare LF, the
// buffer fills first or the response ends (net/http then reads or refuses
// it). A read error other than the end is returned as is.
func peekHead(br *bufio.Reader) ([]byte, error) {
	want, from, lineStart := max(br.Buffered(), 1), 0, 0
	for {
		buf, err := br.Peek(want)
		for i := from; i < len(buf); i++ {
			if buf[i] != '\n' {
				continue
			}
			if i == 0 || buf[i-1] != '\r' {
				return nil, nil
			}
			if i-1 == lineStart {
				return buf[:i+1], nil
			}
			lineStart = i + 1
		}
		if err == io.EOF || len(buf) >= br.Size() {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		from, want = len(buf), len(buf)+1
	}
}

// parse reads head (from peekHead) into r.resp; false leaves the response to
// net/http: a status line or header it does not read alike for certain.
func (r *respReader) parse(head []byte, method string) bool {
	line, rest := cutLine(head)
	if len(line) < 12 || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return false
	}
	var http10 bool
	switch string(line[:8]) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		http10 = true
	default:
		return false
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return false
		}
		code = code*10 + int(c-'0')
	}
	status := line[9:]
	var h headFields
	r.ctype = r.ctype[:0]
	for len(rest) > 2 {
		line, rest = cutLine(rest)
		if !h.add(line, r) {
			return false
		}
	}
	r.resp = response{code: code, status: statusString(code, status)}
	return r.body(&h, code, method, http10)
}

// headFields are the headers parse reads.
type headFields struct {
	cl, te                     []byte
	hasCL, hasTE, hasCT        bool
	closeToken, keepAliveToken bool
}

// add reads one header line; false for what only net/http reads alike: a folded
// line, a key net/http would not canonicalize, a byte it refuses, a repeated
// Content-Length or Transfer-Encoding, a Trailer.
func (h *headFields) add(line []byte, r *respReader) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	k, v := line[:i], line[i+1:]
	for _, c := range k {
		if !validFieldByte(c) {
			return false
		}
	}
	v = bytes.TrimRight(bytes.TrimLeft(v, " \t"), " \t")
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	switch {
	case asciiEqualFold(k, "Content-Length"):
		if h.hasCL {
			return false
		}
		h.hasCL, h.cl = true, v
	case asciiEqualFold(k, "Transfer-Encoding"):
		if h.hasTE {
			return false
		}
		h.hasTE, h.te = true, v
	case asciiEqualFold(k, "Connection"):
		h.closeToken = h.closeToken || hasToken(v, "close")
		h.keepAliveToken = h.keepAliveToken || hasToken(v, "keep-alive")
	case asciiEqualFold(k, "Content-Type"):
		if !h.hasCT {
			h.hasCT = true
			r.ctype = append(r.ctype, v...)
		}
	case asciiEqualFold(k, "Trailer"):
		return false
	}
	return true
}

// body sets the response's body and close as net/http's readTransfer does;
// false for what net/http refuses.
func (r *respReader) body(h *headFields, code int, method string, http10 bool) bool {
	r.resp.contentType = r.ctype
	r.resp.close = h.closeToken || http10 && !h.keepAliveToken
	chunked := h.hasTE && !http10 // HTTP/1.0 ignores Transfer-Encoding
	if chunked && !asciiEqualFold(h.te, "chunked") {
		return false
	}
	n := int64(-1)
	if h.hasCL {
		var ok bool
		if n, ok = parseLength(h.cl); !ok {
			return false
		}
	}
	switch {
	case method == http.MethodHead || code/100 == 1 || code == 204 || code == 304 || n == 0 && !chunked:
		r.resp.body = http.NoBody
	case chunked:
		r.chunk = chunkedBody{br: r.br, cr: httputil.NewChunkedReader(r.br)}
		r.resp.body = &r.chunk
	case n > 0:
		r.fixed = fixedBody{br: r.br, left: n}
		r.resp.body = &r.fixed
	default: // the body ends with the connection
		r.resp.close = true
		r.resp.body = r.br
	}
	return true
}

// cutLine cuts head at its first CRLF.
func cutLine(head []byte) (line, rest []byte) {
	i := bytes.IndexByte(head, '\n')
	return head[:i-1], head[i+1:]
}

// parseLength reads a Content-Length as net/http does (decimal digits, at most 2^63-1).
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<63-1-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// statusLines are the standard status lines, so reading one allocates nothing.
var statusLines = func() (s [600]string) {
	for c := range s {
		if t := http.StatusText(c); t != "" {
			s[c] = strconv.Itoa(c) + " " + t
		}
	}
	return s
}()

func statusString(code int, b []byte) string {
	if code < len(statusLines) && statusLines[code] == string(b) {
		return statusLines[code]
	}
	return string(b)
}

// validFieldByte reports whether c may be in a header key net/http canonicalizes (a token byte).
func validFieldByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c < 0x80 && strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// asciiEqualFold compares b with the ASCII string s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasToken reports whether the comma-separated list v holds token, as
// net/http's httpguts.HeaderValuesContainsToken does.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if asciiEqualFold(bytes.Trim(item, " \t"), token) {
			return true
		}
	}
	return false
}

// fixedBody is a body of a known length.
type fixedBody struct {
	br   *bufio.Reader
	left int64
}

func (f *fixedBody) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.br.Read(p)
	f.left -= int64(n)
	switch {
	case err == io.EOF && f.left > 0:
		err = io.ErrUnexpectedEOF
	case err == nil && f.left == 0:
		err = io.EOF
	}
	return n, err
}

// chunkedBody is a chunked body and its trailer.
type chunkedBody struct {
	br   *bufio.Reader
	cr   io.Reader
	done bool
	err  error
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.cr.Read(p)
	if err == io.EOF {
		if err = readTrailer(c.br); err == nil {
			c.done, err = true, io.EOF
		}
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

var errTrailerEOF = errors.New("http: unexpected EOF reading trailer")

// readTrailer reads what follows the last chunk as net/http does: a CRLF, or
// trailer fields that fit the read buffer, then a CRLF.
func readTrailer(br *bufio.Reader) error {
	buf, err := br.Peek(2)
	if string(buf) == "\r\n" {
		_, _ = br.Discard(2)
		return nil
	}
	if len(buf) < 2 {
		return errTrailerEOF
	}
	if err != nil {
		return err
	}
	for n := 4; ; n++ {
		buf, err := br.Peek(n)
		if bytes.HasSuffix(buf, []byte("\r\n\r\n")) {
			break
		}
		if err != nil {
			return errors.New("http: suspiciously long trailer after chunked body")
		}
	}
	if _, err := textproto.NewReader(br).ReadMIMEHeader(); err != nil {
		if err == io.EOF {
			return errTrailerEOF
		}
		return err
	}
	return nil
}
