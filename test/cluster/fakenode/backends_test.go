package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestChooseBackend(t *testing.T) {
	cases := []struct {
		ann  map[string]string
		port int32
		want string
	}{
		{nil, 80, "main.responderBackend{}"},
		{map[string]string{annBackend: "http"}, 80, "main.httpServeBackend{}"},
		{map[string]string{annBackend: "http", annBackendPort + "9000": "responder"}, 9000, "main.responderBackend{}"},
		{map[string]string{annBackend: "http", annBackendPort + "9000": "responder"}, 8080, "main.httpServeBackend{}"},
		{map[string]string{annRefusePorts: "9999, 1234", annBackend: "http"}, 1234, "main.refuseBackend{}"},
		{map[string]string{annRefusePorts: "9999,1234"}, 80, "main.responderBackend{}"},
		{map[string]string{annDial: "127.0.0.1:5000"}, 80, "main.dialBackend{addr:\"127.0.0.1:5000\"}"},
		{map[string]string{annDial: "80=127.0.0.1:5000,81=[::1]:5001"}, 81, "main.dialBackend{addr:\"[::1]:5001\"}"},
		{map[string]string{annDial: "80=127.0.0.1:5000"}, 82, "main.responderBackend{}"},
		{map[string]string{annDial: "127.0.0.2:7", annBackendPort + "8": "http"}, 8, "main.httpServeBackend{}"},
		{map[string]string{annDial: "8=127.0.0.3:9", annBackendPort + "8": "http"}, 8, "main.dialBackend{addr:\"127.0.0.3:9\"}"},
	}
	for _, c := range cases {
		b, err := chooseBackend(testPod("p", c.ann), c.port)
		if err != nil {
			t.Errorf("%v port %d: %v", c.ann, c.port, err)
			continue
		}
		if got := fmt.Sprintf("%#v", b); got != c.want {
			t.Errorf("%v port %d: got %s, want %s", c.ann, c.port, got, c.want)
		}
	}
	for _, bad := range []map[string]string{
		{annDial: "10.0.0.1:80"},
		{annDial: "80=example.com:80"},
		{annDial: "localhost:80"},
		{annDial: "x=127.0.0.1:80"},
		{annBackend: "gopher"},
	} {
		if _, err := chooseBackend(testPod("p", bad), 80); err == nil {
			t.Errorf("%v: expected an error", bad)
		}
	}
}

func TestRefusedMessage(t *testing.T) {
	pod := testPod("p", map[string]string{annRefusePorts: "9999"})
	b, _ := chooseBackend(pod, 9999)
	err := b.serve(context.Background(), target{pod: pod, port: 9999}, nil)
	want := `failed to connect to localhost:9999 inside namespace "uid-p", IPv4: dial tcp4 127.0.0.1:9999: connect: connection refused`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want prefix %q", err, want)
	}
}

func TestResponder(t *testing.T) {
	client, server := newPipeStreams()
	pod := testPod("web", nil)
	done := make(chan error, 1)
	go func() { done <- responderBackend{}.serve(context.Background(), target{pod: pod, port: 8080}, server) }()

	if got := readLine(t, client); got != "pod=default/web port=8080\n" {
		t.Fatalf("greeting %q", got)
	}
	go func() {
		_, _ = client.Write([]byte("hello "))
		_, _ = client.Write([]byte("world"))
		_ = client.Close() // half-close: the responder sees EOF
	}()
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "hello world" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestDialBackend proxies to a loopback TCP server and checks that
// half-closes travel both ways.
func TestDialBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		data, _ := io.ReadAll(c) // until the client's half-close arrives
		_, _ = c.Write([]byte("upper:" + strings.ToUpper(string(data))))
		_ = c.(*net.TCPConn).CloseWrite()
	}()

	pod := testPod("db", map[string]string{annDial: "5432=" + ln.Addr().String()})
	b, err := chooseBackend(pod, 5432)
	if err != nil {
		t.Fatal(err)
	}
	client, server := newPipeStreams()
	done := make(chan error, 1)
	go func() { done <- b.serve(context.Background(), target{pod: pod, port: 5432}, server) }()
	_, _ = client.Write([]byte("select 1"))
	_ = client.Close()
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "upper:SELECT 1" {
		t.Fatalf("got %q, %v", got, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dial backend did not return")
	}
}

func TestDialBackendRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	pod := testPod("db", map[string]string{annDial: addr})
	b, _ := chooseBackend(pod, 80)
	_, server := newPipeStreams()
	err := b.serve(context.Background(), target{pod: pod, port: 80}, server)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v", err)
	}
}

// TestRegistryClosesStreams runs PortForward as the library would and
// deletes the pod underneath it.
func TestRegistryClosesStreams(t *testing.T) {
	reg := newStreamRegistry()
	fwd := &forwarder{registry: reg, http: newHTTPBackend()}
	pod := testPod("victim", nil)
	pf := fwd.forPod(pod)

	type result struct{ err error }
	var clients []*pipeStream
	results := make(chan result, 4)
	for i, port := range []int32{80, 81} {
		client, server := newPipeStreams()
		clients = append(clients, client)
		go func() {
			results <- result{pf.PortForward(context.Background(), pod.Name, string(pod.UID), port, server)}
		}()
		if got := readLine(t, client); got != fmt.Sprintf("pod=default/victim port=%d\n", port) {
			t.Fatalf("stream %d greeting %q", i, got)
		}
	}
	// An HTTP stream too.
	pod.Annotations = map[string]string{annBackend: "http"}
	hc, hs := newPipeStreams()
	go func() { results <- result{pf.PortForward(context.Background(), pod.Name, string(pod.UID), 8080, hs)} }()
	waitFor(t, "3 registered streams", func() bool { return reg.count(pod.UID) == 3 })

	if n := reg.closePod(pod.UID); n != 3 {
		t.Fatalf("closePod closed %d streams, want 3", n)
	}
	for i := 0; i < 3; i++ {
		select {
		case r := <-results:
			if r.err == nil || !strings.Contains(r.err.Error(), "was deleted") {
				t.Errorf("PortForward returned %v, want a 'was deleted' error", r.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("PortForward did not return after closePod")
		}
	}
	for _, c := range append(clients, hc) {
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("client stream still readable after closePod")
		}
	}
	if reg.count(pod.UID) != 0 {
		t.Fatal("streams still registered")
	}
	// New streams of a deleted pod are refused.
	_, s := newPipeStreams()
	if err := pf.PortForward(context.Background(), pod.Name, string(pod.UID), 80, s); err == nil {
		t.Fatal("PortForward accepted a stream of a deleted pod")
	}
	reg.forget(pod.UID)
}
