package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Page is a page open in a chromium driven over the DevTools protocol (through
// a pipe, --remote-debugging-pipe: no port, no library), for pages that keep
// changing, such as the live dashboard.
type Page struct {
	cmd     *exec.Cmd
	in      *os.File // chromium reads commands here
	mu      sync.Mutex
	next    int
	pending map[int]chan reply
	session string
	stderr  bytes.Buffer
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Open starts chromium and opens url in a window of width × height pixels.
// Close it when done.
func (c *Chromium) Open(ctx context.Context, url string, width, height int) (*Page, error) {
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := &Page{in: cmdW, pending: map[int]chan reply{}}
	p.cmd = exec.Command(c.path, "--headless", "--no-sandbox", "--disable-gpu", "--no-zygote", "--no-first-run",
		"--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
		"--user-data-dir="+c.t.TempDir(), "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), "about:blank")
	p.cmd.ExtraFiles = []*os.File{cmdR, resW} // fds 3 and 4
	p.cmd.Stderr = &p.stderr
	p.cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=disabled:")
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start chromium: %w", err)
	}
	cmdR.Close()
	resW.Close()
	go p.read(resR)
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := p.call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		p.Close()
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := p.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		p.Close()
		return nil, err
	}
	p.session = att.SessionID
	return p, nil
}

// read dispatches the replies, which chromium ends with a NUL byte.
func (p *Page) read(f *os.File) {
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		var m struct {
			ID int `json:"id"`
			reply
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil || m.ID == 0 {
			continue // an event
		}
		p.mu.Lock()
		ch := p.pending[m.ID]
		delete(p.pending, m.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

func (p *Page) call(ctx context.Context, session, method string, params any, out any) error {
	p.mu.Lock()
	p.next++
	id := p.next
	ch := make(chan reply, 1)
	p.pending[id] = ch
	p.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := p.in.Write(append(b, 0)); err != nil {
		return fmt.Errorf("chromium %s: %w", method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("chromium %s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chromium %s: %w\n%s", method, ctx.Err(), tail(p.stderr.Bytes(), 2000))
	}
}

// Eval evaluates a JavaScript expression in the page and stores its value,
// as JSON, into out.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("%s: %s", expr, r.Exception.Text)
	}
	if len(r.Result.Value) == 0 {
		return fmt.Errorf("%s: no value", expr)
	}
	return json.Unmarshal(r.Result.Value, out)
}

// WaitFor evaluates expr, a JavaScript boolean, every 200ms until it is true.
func (p *Page) WaitFor(ctx context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := p.Eval(ctx, expr, &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s, %s is still not true (%v)", timeout, expr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Screenshot writes a PNG of the window to path.
func (p *Page) Screenshot(ctx context.Context, path string) error {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Close ends chromium.
func (p *Page) Close() {
	p.in.Close() // chromium exits when its pipe closes
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}
