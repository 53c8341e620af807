package load

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// readOut is what a reader made of one response.
type readOut struct {
	err     bool
	code    int
	status  string
	ctype   string
	close   bool
	body    string
	bodyErr bool
	rest    string // what follows the response, once its body is read
}

// readOurs reads data with the pool's response reader; fast says whether its
// own parser read the head (not net/http).
func readOurs(data []byte, method string) (out readOut, fast bool) {
	r := respReader{br: bufio.NewReaderSize(bytes.NewReader(data), 1<<10)}
	resp, err := r.read(&http.Request{Method: method})
	if err != nil {
		return readOut{err: true}, false
	}
	fast = r.std == nil
	out = readOut{code: resp.code, status: resp.status, ctype: string(resp.contentType), close: resp.close}
	b, err := io.ReadAll(resp.body)
	out.body, out.bodyErr = string(b), err != nil
	r.finish(err == nil)
	if !out.bodyErr && !out.close {
		rest, _ := io.ReadAll(r.br)
		out.rest = string(rest)
	}
	return out, fast
}

// readStd reads data with net/http's ReadResponse.
func readStd(data []byte, method string) readOut {
	br := bufio.NewReaderSize(bytes.NewReader(data), 1<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return readOut{err: true}
	}
	out := readOut{code: resp.StatusCode, status: resp.Status, ctype: resp.Header.Get("Content-Type"), close: resp.Close}
	b, err := io.ReadAll(resp.Body)
	out.body, out.bodyErr = string(b), err != nil
	_ = resp.Body.Close()
	if !out.bodyErr && !out.close {
		rest, _ := io.ReadAll(br)
		out.rest = string(rest)
	}
	return out
}

// The pool reads every response as net/http's ReadResponse does: status,
// Content-Type, keep-alive, body bytes and where the next response starts, or
// both fail.
func FuzzResponse(f *testing.F) {
	for _, tc := range responseCases {
		f.Add([]byte(tc.data), tc.method == http.MethodHead)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		got, _ := readOurs(data, method)
		if want := readStd(data, method); got != want {
			t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
		}
	})
}

var responseCases = []struct {
	name   string
	data   string
	method string
	want   readOut
	slow   bool // net/http reads it
}{
	{name: "content length", data: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nDate: x\r\n\r\nokNEXT",
		want: readOut{code: 200, status: "200 OK", ctype: "application/json", body: "ok", rest: "NEXT"}},
	{name: "odd case and spaces", data: "HTTP/1.1 201 Made\r\ncontent-LENGTH:  2 \t\r\ncontent-type:text/x\r\nCONTENT-TYPE: second\r\n\r\nok",
		want: readOut{code: 201, status: "201 Made", ctype: "text/x", body: "ok"}},
	{name: "chunked with extensions and trailers", data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"3;ext=1\r\nabc\r\n2;a;b=\"q\"\r\nde\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\nNEXT",
		want: readOut{code: 200, status: "200 OK", body: "abcde", rest: "NEXT"}},
	{name: "chunked", data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 99\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		want: readOut{code: 200, status: "200 OK", body: "hello"}},
	{name: "chunked cut short", data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
		want: readOut{code: 200, status: "200 OK", body: "hel", bodyErr: true}},
	{name: "chunked malformed size", data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
		want: readOut{code: 200, status: "200 OK", bodyErr: true}},
	{name: "connection close", data: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", close: true, body: "ok"}},
	{name: "no content length ends at close", data: "HTTP/1.1 200 OK\r\n\r\nall of it",
		want: readOut{code: 200, status: "200 OK", close: true, body: "all of it"}},
	{name: "http/1.0", data: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", close: true, body: "ok"}},
	{name: "http/1.0 keep-alive", data: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", body: "ok"}},
	{name: "head", method: http.MethodHead, data: "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nNEXT",
		want: readOut{code: 200, status: "200 OK", rest: "NEXT"}},
	{name: "204", data: "HTTP/1.1 204 No Content\r\n\r\nNEXT",
		want: readOut{code: 204, status: "204 No Content", rest: "NEXT"}},
	{name: "1xx is the response", data: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		want: readOut{code: 100, status: "100 Continue", rest: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}},
	{name: "own status text", data: "HTTP/1.1 503 Go Away \r\nContent-Length: 0\r\n\r\n",
		want: readOut{code: 503, status: "503 Go Away "}},
	{name: "status without text", data: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		want: readOut{code: 200, status: "200"}},
	{name: "body cut short", data: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", body: "ok", bodyErr: true}},
	{name: "bare LF", slow: true, data: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		want: readOut{code: 200, status: "200 OK", body: "ok"}},
	{name: "folded header", slow: true, data: "HTTP/1.1 200 OK\r\nContent-Type: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", ctype: "a b", body: "ok"}},
	{name: "long header", slow: true, data: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("x", 3000) + "\r\nContent-Length: 2\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", body: "ok"}},
	{name: "same content lengths", slow: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		want: readOut{code: 200, status: "200 OK", body: "ok"}},
	{name: "malformed status code", data: "HTTP/1.1 2000 OK\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "letters for a status", data: "HTTP/1.1 abc OK\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "status line without code", data: "HTTP/1.1\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "no status line", data: "\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "not http", data: "SSH-2.0-OpenSSH\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "truncated head", data: "HTTP/1.1 200 OK\r\nContent-Le", slow: true, want: readOut{err: true}},
	{name: "empty", data: "", slow: true, want: readOut{err: true}},
	{name: "bad content length", data: "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "differing content lengths", data: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok", slow: true, want: readOut{err: true}},
	{name: "unsupported transfer encoding", data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", slow: true, want: readOut{err: true}},
	{name: "control byte in a value", data: "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", slow: true, want: readOut{err: true}},
}

func TestResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			got, fast := readOurs([]byte(tc.data), method)
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if std := readStd([]byte(tc.data), method); std != got {
				t.Errorf("net/http read %+v", std)
			}
			if fast == tc.slow && !tc.want.err {
				t.Errorf("read by its own parser: %v, want %v", fast, !tc.slow)
			}
		})
	}
}

// Headers beyond maxHeaderBytes fail the response, however they are sent.
func TestHeadersTooLarge(t *testing.T) {
	t.Parallel()
	data := "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("x", maxHeaderBytes) + "\r\n\r\n"
	c := countingReader{r: strings.NewReader(data), limit: maxHeaderBytes}
	r := respReader{br: bufio.NewReaderSize(&c, 1<<10)}
	if _, err := r.read(&http.Request{Method: http.MethodGet}); !errors.Is(err, errHeadersTooLarge) {
		t.Fatalf("error %v, want %v", err, errHeadersTooLarge)
	}
}

// The common response allocates nothing.
func TestResponseAllocs(t *testing.T) {
	data := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\nDate: Mon, 30 Nov 2026 06:00:00 GMT\r\n\r\n" +
		`{"prediction":[0.4871]}`)
	src := bytes.NewReader(data)
	r := respReader{br: bufio.NewReaderSize(src, 1<<10)}
	req := &http.Request{Method: http.MethodGet}
	var buf [64]byte
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(data)
		r.br.Reset(src)
		resp, err := r.read(req)
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = resp.body.Read(buf[:])
		}
		if !r.finish(err == io.EOF) {
			t.Fatal("not kept alive")
		}
	})
	if allocs != 0 {
		t.Errorf("%.0f allocations per response, want 0", allocs)
	}
}

// A read error is the response's error as is, not net/http's "unexpected EOF"
// of a second read.
func TestResponseReadError(t *testing.T) {
	t.Parallel()
	reset := errors.New("connection reset by peer")
	for _, data := range []string{"", "HTTP/1.1 200 OK\r\nContent-"} {
		r := respReader{br: bufio.NewReaderSize(io.MultiReader(strings.NewReader(data), iotest.ErrReader(reset)), 1<<10)}
		if _, err := r.read(&http.Request{Method: http.MethodGet}); !errors.Is(err, reset) {
			t.Errorf("after %q: error %v, want %v", data, err, reset)
		}
	}
}
