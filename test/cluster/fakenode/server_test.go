package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

type fakeLookup struct {
	mu   sync.Mutex
	pods map[string]*corev1.Pod
}

func (f *fakeLookup) lookup(_ context.Context, ns, name string) (*corev1.Pod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.pods[ns+"/"+name]; ok {
		return p, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("pods"), name)
}

// startTestServer runs the real kubelet server (TLS, library handler) on a
// loopback port with the given pods.
func startTestServer(t *testing.T, pods ...*corev1.Pod) (string, *streamRegistry) {
	t.Helper()
	lookup := &fakeLookup{pods: map[string]*corev1.Pod{}}
	for _, p := range pods {
		lookup.pods[p.Namespace+"/"+p.Name] = p
	}
	reg := newStreamRegistry()
	tlsCfg, err := serverTLSConfig("", "", "fake-node-1")
	if err != nil {
		t.Fatal(err)
	}
	srv := newKubeletServer(tlsCfg, "fake-node-1", lookup, newForwarder(reg))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), reg
}

// forwardPorts starts a client-go (kubectl) port-forward session to
// addr+path for the given remote ports and returns the local ports.
func forwardPorts(t *testing.T, addr, path string, remote ...int) ([]int, *bytes.Buffer, func()) {
	t.Helper()
	rt, upgrader, err := spdy.RoundTripperFor(&rest.Config{
		Host: "https://" + addr, TLSClientConfig: rest.TLSClientConfig{Insecure: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://" + addr + path)
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	var specs []string
	for _, p := range remote {
		specs = append(specs, "0:"+strconv.Itoa(p))
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	errOut := &syncBuffer{}
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, specs, stop, ready, io.Discard, errOut)
	if err != nil {
		t.Fatal(err)
	}
	fwdErr := make(chan error, 1)
	go func() { fwdErr <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-fwdErr:
		t.Fatalf("ForwardPorts: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port-forward not ready")
	}
	fp, err := pf.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	local := make([]int, len(fp))
	for i, p := range fp {
		local[i] = int(p.Local)
	}
	var once sync.Once
	closeFn := func() { once.Do(func() { close(stop) }) }
	t.Cleanup(closeFn)
	return local, &errOut.Buffer, closeFn
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func dialLocal(t *testing.T, port int) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c.(*net.TCPConn)
}

// TestSPDYEndToEnd drives the server with client-go's port-forwarder over
// SPDY: responder, HTTP and per-port override on one pod.
func TestSPDYEndToEnd(t *testing.T) {
	pod := testPod("web", map[string]string{annBackend: "http", annBackendPort + "9000": "responder"})
	addr, reg := startTestServer(t, pod)
	local, _, _ := forwardPorts(t, addr, "/portForward/default/web/uid-web", 9000, 8080)

	// Raw responder port, with a half-close.
	c := dialLocal(t, local[0])
	if got := readLine(t, c); got != "pod=default/web port=9000\n" {
		t.Fatalf("greeting %q", got)
	}
	_, _ = c.Write([]byte("ping over spdy"))
	_ = c.CloseWrite()
	rest, err := io.ReadAll(c)
	if err != nil || string(rest) != "ping over spdy" {
		t.Fatalf("echo %q %v", rest, err)
	}
	c.Close()

	// HTTP port, keep-alive, large body.
	client := &http.Client{Timeout: 30 * time.Second}
	base := "http://127.0.0.1:" + strconv.Itoa(local[1])
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"pod":"web","namespace":"default","port":8080}` {
		t.Fatalf("GET /: %q", body)
	}
	const n = 32 << 20
	start := time.Now()
	resp, err = client.Get(base + "/bytes?n=" + strconv.Itoa(n))
	if err != nil {
		t.Fatal(err)
	}
	m, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || m != n {
		t.Fatalf("/bytes: %d bytes, %v", m, err)
	}
	t.Logf("/bytes over SPDY: %d MiB in %v (%.0f MiB/s)", n>>20, time.Since(start), float64(n>>20)/time.Since(start).Seconds())
	resp, err = client.Post(base+"/echo", "text/plain", strings.NewReader("round trip"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "round trip" {
		t.Fatalf("/echo: %q", body)
	}
	client.CloseIdleConnections()
	waitFor(t, "streams to be released", func() bool { return reg.count(pod.UID) == 0 })
}

// TestSPDYDeletionClosesStreams deletes the pod (registry) under an open
// forwarded connection.
func TestSPDYDeletionClosesStreams(t *testing.T) {
	pod := testPod("doomed", nil)
	addr, reg := startTestServer(t, pod)
	local, _, _ := forwardPorts(t, addr, "/portForward/default/doomed", 80)
	c := dialLocal(t, local[0])
	if got := readLine(t, c); got != "pod=default/doomed port=80\n" {
		t.Fatalf("greeting %q", got)
	}
	waitFor(t, "stream registered", func() bool { return reg.count(pod.UID) == 1 })
	if n := reg.closePod(pod.UID); n != 1 {
		t.Fatalf("closed %d streams", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("local connection still open after the pod was deleted")
		}
	}
}

// rawStreams opens a SPDY connection with the library's dialer and creates
// one error+data stream pair for port.
func rawStreams(t *testing.T, addr, path string, port int) (data, errStream io.ReadWriteCloser, closeConn func(), err error) {
	t.Helper()
	rt, upgrader, err := spdy.RoundTripperFor(&rest.Config{
		Host: "https://" + addr, TLSClientConfig: rest.TLSClientConfig{Insecure: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://" + addr + path)
	conn, _, err := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u).Dial(portforward.PortForwardProtocolV1Name)
	if err != nil {
		return nil, nil, nil, err
	}
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, strconv.Itoa(port))
	h.Set(corev1.PortForwardRequestIDHeader, "0")
	es, err := conn.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	ds, err := conn.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	return ds, es, func() { conn.Close() }, nil
}

func TestSPDYRefusedPortAndErrors(t *testing.T) {
	pod := testPod("web", map[string]string{annRefusePorts: "9999"})
	done := testPod("done", nil)
	done.Status.Phase = corev1.PodSucceeded
	addr, _ := startTestServer(t, pod, done)

	data, es, closeConn, err := rawStreams(t, addr, "/portForward/default/web", 9999)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	_ = es.Close()
	msg, _ := io.ReadAll(es)
	want := `error forwarding port 9999 to pod web, uid uid-web: failed to connect to localhost:9999 inside namespace "uid-web", IPv4: dial tcp4 127.0.0.1:9999: connect: connection refused`
	if !strings.HasPrefix(string(msg), want) {
		t.Fatalf("error stream:\n got %q\nwant prefix %q", msg, want)
	}
	_, _ = io.ReadAll(data)

	for _, path := range []string{"/portForward/default/missing", "/portForward/default/web/other-uid", "/portForward/default/done"} {
		if _, _, _, err := rawStreams(t, addr, path, 80); err == nil {
			t.Errorf("%s: upgrade succeeded, want an error", path)
		} else {
			t.Logf("%s: %v", path, err)
		}
	}
}

// TestWebSocketV4 uses the v4 WebSocket port-forward protocol directly (the
// API server proxies such requests to the kubelet unchanged).
func TestWebSocketV4(t *testing.T) {
	pod := testPod("ws", nil)
	addr, _ := startTestServer(t, pod)
	d := websocket.Dialer{
		TLSClientConfig:  &tls.Config{InsecureSkipVerify: true},
		Subprotocols:     []string{"v4.channel.k8s.io"},
		HandshakeTimeout: 10 * time.Second,
	}
	ws, resp, err := d.Dial("wss://"+addr+"/portForward/default/ws?port=7000", nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	read := func() (byte, []byte) {
		_, m, err := ws.ReadMessage()
		if err != nil || len(m) == 0 {
			t.Fatalf("read: %v", err)
		}
		return m[0], m[1:]
	}
	// Each channel starts with the port number (little endian).
	seen := map[byte]bool{}
	for len(seen) < 2 {
		ch, m := read()
		if len(m) != 2 || binary.LittleEndian.Uint16(m) != 7000 {
			t.Fatalf("channel %d header %v", ch, m)
		}
		seen[ch] = true
	}
	var got []byte
	for !bytes.HasSuffix(got, []byte("\n")) {
		ch, m := read()
		if ch != 0 {
			t.Fatalf("unexpected channel %d: %q", ch, m)
		}
		got = append(got, m...)
	}
	if string(got) != "pod=default/ws port=7000\n" {
		t.Fatalf("greeting %q", got)
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, append([]byte{0}, "over websocket"...)); err != nil {
		t.Fatal(err)
	}
	got = nil
	for len(got) < len("over websocket") {
		_, m := read()
		got = append(got, m...)
	}
	if string(got) != "over websocket" {
		t.Fatalf("echo %q", got)
	}
}
