package swarm

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/infergrid/runner/runner/platform"
	"github.com/infergrid/runner/runner/platform/docker"
)

// fakeNode is a node whose Docker API is a server of the test's that answers
// the ping and the version, and nothing else; closing it is the node being
// switched off.
func fakeNode(t *testing.T, name string) (*node, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Ostype", "linux")
		switch {
		case strings.HasSuffix(r.URL.Path, "/_ping"):
			w.Write([]byte("OK"))
		case strings.HasSuffix(r.URL.Path, "/version"):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Arch":"amd64","Os":"linux"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	dc, err := docker.NewAt(t.Context(), "tcp://"+srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	n := &node{Node: docker.Node{ID: name + "-id", Hostname: name}, dc: dc}
	return n, srv
}

// followed is a follower of task name on n, as followTask makes it, with the
// reading end of its results stream.
func followed(n *node, name string, slot int) (*follower, *io.PipeReader) {
	pr, pw := io.Pipe()
	_, stop := context.WithCancel(context.Background())
	return &follower{task: docker.Task{ID: "t" + name, Name: name, Slot: slot, State: "running"}, node: n.Hostname, n: n, stop: stop, pw: pw}, pr
}

// TestAgentNodeGone: while a node answers, its agents are followed; once it
// stops answering, it is marked lost (teardown no longer waits for it), each
// agent there stops being followed (its results stream ends) with an error
// naming the node and its address, and agents on other nodes are untouched.
func TestAgentNodeGone(t *testing.T) {
	gone, srv := fakeNode(t, "node-3")
	other, _ := fakeNode(t, "node-2")
	p := &Platform{nodes: map[string]*node{gone.ID: gone, other.ID: other}}
	a := &agents{st: &Stack{p: p}, followed: map[int]*follower{}}
	f1, pr1 := followed(gone, "s_agent.1", 1)
	f2, _ := followed(gone, "s_agent.2", 2)
	f3, _ := followed(other, "s_agent.3", 3)
	a.followed[1], a.followed[2], a.followed[3] = f1, f2, f3

	if a.nodeGone(t.Context(), gone) || p.isLost(gone) {
		t.Fatal("a node that answers is gone")
	}
	srv.Close()
	srv.CloseClientConnections()
	if !a.nodeGone(t.Context(), gone) {
		t.Fatal("a node that no longer answers is not gone")
	}
	if !p.isLost(gone) || p.isLost(other) {
		t.Errorf("lost: %v and %v, want only the node that stopped answering", p.isLost(gone), p.isLost(other))
	}
	for _, r := range p.reachable() {
		if r == gone {
			t.Error("a lost node is still among those teardown waits for")
		}
	}
	for _, f := range []*follower{f1, f2} {
		if !f.lost || f.err == nil || !strings.Contains(f.err.Error(), "swarm node node-3 ("+gone.dc.Host()+") stopped answering mid-run") {
			t.Errorf("%s: lost %v, err %v: want it named with its node", f.task.Name, f.lost, f.err)
		}
	}
	if f3.lost || f3.err != nil {
		t.Errorf("the agent on the other node: lost %v, err %v", f3.lost, f3.err)
	}
	if _, err := pr1.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "node-3 stopped answering") {
		t.Errorf("the results stream of an agent on the lost node: %v, want it ended", err)
	}
}

// TestGeneratorOfLostNode: an agent on a lost node is named with the node's
// error, not with its task's state as the manager last saw it (running, exit
// 0), and failed names it and its node; an agent whose task failed is named
// with its exit code.
func TestGeneratorOfLostNode(t *testing.T) {
	n := &node{Node: docker.Node{Hostname: "node-3"}}
	f, _ := followed(n, "s_agent.1", 1)
	f.lost = true
	f.err = io.ErrUnexpectedEOF // stands for the node's error
	g := generatorOf(f, f.task)
	if g.Err != io.ErrUnexpectedEOF.Error() || g.Node != "node-3" {
		t.Errorf("lost agent: %+v, want only the node's error", g)
	}
	k, _ := followed(n, "s_agent.2", 2)
	killed := generatorOf(k, docker.Task{Name: "s_agent.2", Slot: 2, State: "failed", ExitCode: 137, Err: "task: non-zero exit (137)"})
	if !strings.Contains(killed.Err, "task failed with exit code 137") {
		t.Errorf("killed agent: %+v", killed)
	}
	ok := generatorOf(k, docker.Task{Name: "s_agent.2", Slot: 2, State: "complete"})
	err := failed([]platform.Generator{g, killed, ok})
	if err == nil || !strings.Contains(err.Error(), "load agent s_agent.1 on node node-3: "+io.ErrUnexpectedEOF.Error()) ||
		!strings.Contains(err.Error(), "load agent s_agent.2 on node node-3: task failed") || strings.Count(err.Error(), "load agent") != 2 {
		t.Errorf("failed: %v", err)
	}
}
