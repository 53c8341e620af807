package render

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infergrid/runner/proxy"
	"github.com/infergrid/runner/runner/spec"
)

// fakeDNS answers A queries for one name with a list of addresses it can change,
// as Docker's DNS answers a service name with its replicas' addresses: enough of
// RFC 1035 for HAProxy's resolvers.
type fakeDNS struct {
	conn  net.PacketConn
	name  string
	mu    sync.Mutex
	addrs []net.IP
}

func newFakeDNS(t *testing.T, name string, addrs ...net.IP) *fakeDNS {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{conn: c, name: name, addrs: addrs}
	t.Cleanup(func() { c.Close() })
	go d.serve()
	return d
}

func (d *fakeDNS) set(addrs ...net.IP) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addrs = addrs
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 4096)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n]); resp != nil {
			d.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to query q: the question echoed, then one A record
// per address for the name (NODATA for other types), NXDOMAIN for other names.
func (d *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	resp := append([]byte{}, q[:2]...)
	var answers [][]byte
	rcode := uint16(0)
	if !strings.EqualFold(strings.Join(labels, "."), d.name) {
		rcode = 3 // NXDOMAIN
	} else if qtype == 1 {
		d.mu.Lock()
		for _, ip := range d.addrs {
			rr := []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4} // name at offset 12, A, IN, TTL 0, 4 bytes
			answers = append(answers, append(rr, ip.To4()...))
		}
		d.mu.Unlock()
	}
	resp = binary.BigEndian.AppendUint16(resp, 0x8180|rcode) // response, recursion desired and available
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(answers)))
	resp = append(resp, 0, 0, 0, 0)
	resp = append(resp, question...)
	for _, a := range answers {
		resp = append(resp, a...)
	}
	return resp
}

// sharedPortBackends starts a backend on 127.0.0.1 and one on 127.0.0.2 with the
// same port, as replicas share their container port; it skips when 127.0.0.2 is
// not a loopback address here.
func sharedPortBackends(t *testing.T) ([]*backend, int) {
	for range 20 {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port))
		if err != nil {
			l1.Close()
			if strings.Contains(err.Error(), "cannot assign requested address") {
				t.Skip("127.0.0.2 is not a loopback address on this host")
			}
			continue
		}
		var bs []*backend
		for _, l := range []net.Listener{l1, l2} {
			b := &backend{}
			b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/health" {
					return
				}
				b.hits.Add(1)
				io.WriteString(w, "hello")
			}))
			b.srv.Listener.Close()
			b.srv.Listener = l
			b.srv.Start()
			t.Cleanup(b.srv.Close)
			bs = append(bs, b)
		}
		return bs, port
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return nil, 0
}

// waitStatus polls url until it answers want, for at most 30 s (a bound on the
// wait, not a speed check).
func waitStatus(t *testing.T, url string, want int, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("the balancer exited: %v", err)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within 30s", url, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runBalancer starts cmd (its own process group) and stops it at the test's end.
func runBalancer(t *testing.T, cmd *exec.Cmd) <-chan error {
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = processGroup()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stopGroup(t, cmd, exited, &out) })
	return exited
}

// send sends n requests over one keep-alive connection and fails on any error.
func send(t *testing.T, base string, n int) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range n {
		resp, err := client.Get(base + "/predict")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %s", i, resp.Status)
		}
	}
}

// TestHAProxyDiscovery runs the compose flavour of the HAProxy config unchanged
// but for its nameserver and listen address: server-template slots filled from a
// DNS name that answers two replicas' addresses, then one, as Docker's DNS does
// when a replica goes away.
func TestHAProxyDiscovery(t *testing.T) {
	haproxy := lookBinary(t, "haproxy", "haproxy")
	backends, port := sharedPortBackends(t)
	dns := newFakeDNS(t, "app", net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2))
	d := testBalancerData("round_robin", false)
	d.Upstream, d.Port = fmt.Sprintf("app:%d", port), freePort(t)
	dir := t.TempDir()
	cfg, err := balancerConfig(spec.ProxyHAProxy, d, 3, false, configEnv{Listen: "127.0.0.1", DNS: dns.conn.LocalAddr().String(), RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(file, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	exited := runBalancer(t, exec.Command(haproxy, "-db", "-f", file))
	base := fmt.Sprintf("http://127.0.0.1:%d", d.Port)
	waitStatus(t, base+"/proxy/health?min=2", http.StatusOK, exited)
	const n = 40
	send(t, base, n)
	a, b := backends[0].hits.Load(), backends[1].hits.Load()
	t.Logf("discovered replicas served %d and %d requests", a, b)
	if a+b != n || a-b > n/10 || b-a > n/10 {
		t.Errorf("replicas served %d and %d of %d requests; want within 10%% of even", a, b, n)
	}
	stats, err := proxy.FetchHAProxyStats(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, u := range stats.Upstreams {
		addrs = append(addrs, u.Address)
	}
	want := []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.2:%d", port)}
	if !slices.Equal(addrs, want) {
		t.Errorf("HAProxy's upstreams %v, want %v (the third template slot stays empty)", addrs, want)
	}

	// The name now resolves to one replica: the other leaves the rotation.
	dns.set(net.IPv4(127, 0, 0, 1))
	waitStatus(t, base+"/proxy/health?min=2", http.StatusServiceUnavailable, exited)
	before := backends[0].hits.Load()
	send(t, base, n/2)
	if got := backends[0].hits.Load() - before; got != n/2 {
		t.Errorf("after 127.0.0.2 left the DNS answer, 127.0.0.1 served %d of %d requests", got, n/2)
	}
}

// TestNginxResolvesAtStart runs the compose flavour of the nginx config unchanged
// but for its listen address and pid and temp paths, in a mount namespace whose
// /etc/hosts resolves app to two replicas, as Docker's DNS does when nginx starts.
func TestNginxResolvesAtStart(t *testing.T) {
	nginx := lookBinary(t, "nginx", "nginx-light")
	unshare, err := exec.LookPath("unshare")
	if os.Geteuid() != 0 || err != nil {
		t.Skip("needs root and unshare to give nginx its own /etc/hosts")
	}
	backends, port := sharedPortBackends(t)
	d := testBalancerData("round_robin", false)
	d.Upstream, d.Port = fmt.Sprintf("app:%d", port), freePort(t)
	dir := t.TempDir()
	cfg, err := balancerConfig(spec.ProxyNginx, d, 2, false, configEnv{Listen: "127.0.0.1", RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	file, hosts := filepath.Join(dir, "nginx.conf"), filepath.Join(dir, "hosts")
	if err := os.WriteFile(file, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n127.0.0.1 app\n127.0.0.2 app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exited := runBalancer(t, exec.Command(unshare, "--mount", "sh", "-c",
		`mount --bind "$1" /etc/hosts && exec "$2" -e stderr -g 'daemon off;' -c "$3"`, "sh", hosts, nginx, file))
	base := fmt.Sprintf("http://127.0.0.1:%d", d.Port)
	waitStatus(t, base+"/proxy/health", http.StatusOK, exited)
	const n = 40
	send(t, base, n)
	a, b := backends[0].hits.Load(), backends[1].hits.Load()
	t.Logf("replicas resolved at start served %d and %d requests", a, b)
	if a+b != n || a-b > n/10 || b-a > n/10 {
		t.Errorf("replicas served %d and %d of %d requests; want within 10%% of even", a, b, n)
	}
}
