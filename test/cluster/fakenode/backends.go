package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Annotations that choose what a forwarded port does.
const (
	annBackend     = "kubeforward.test/backend"      // "responder" (default) or "http"
	annBackendPort = "kubeforward.test/backend-"     // + port: per-port override of annBackend
	annDial        = "kubeforward.test/dial"         // "127.0.0.1:P" or "80=127.0.0.1:P,81=..."
	annRefusePorts = "kubeforward.test/refuse-ports" // "9999,1234"
)

// target is one forwarded stream's destination.
type target struct {
	pod  *corev1.Pod
	port int32
	http *httpBackend
}

type backend interface {
	// serve runs until the stream is done. An error is reported to the
	// client on the port-forward error stream.
	serve(ctx context.Context, t target, stream io.ReadWriteCloser) error
}

// chooseBackend picks a port's backend, most specific rule first:
// refuse-ports, a per-port dial entry, backend-<port>, a bare (all-ports)
// dial address, backend, and finally the responder.
func chooseBackend(pod *corev1.Pod, port int32) (backend, error) {
	ann := pod.Annotations
	if portListed(ann[annRefusePorts], port) {
		return refuseBackend{}, nil
	}
	perPort, all, err := parseDial(ann[annDial])
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: annotation %s: %v", pod.Namespace, pod.Name, annDial, err)
	}
	if addr, ok := perPort[port]; ok {
		return dialBackend{addr: addr}, nil
	}
	if name, ok := ann[annBackendPort+strconv.Itoa(int(port))]; ok {
		return backendByName(pod, name)
	}
	if all != "" {
		return dialBackend{addr: all}, nil
	}
	return backendByName(pod, ann[annBackend])
}

func backendByName(pod *corev1.Pod, name string) (backend, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "responder":
		return responderBackend{}, nil
	case "http":
		return httpServeBackend{}, nil
	default:
		return nil, fmt.Errorf("pod %s/%s: unknown backend %q", pod.Namespace, pod.Name, name)
	}
}

func portListed(list string, port int32) bool {
	for _, f := range strings.Split(list, ",") {
		if p, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && int32(p) == port {
			return true
		}
	}
	return false
}

// parseDial parses "127.0.0.1:P" (all ports) and/or "PORT=127.0.0.1:P"
// entries, comma separated. Only loopback targets are allowed.
func parseDial(v string) (perPort map[int32]string, all string, err error) {
	perPort = map[int32]string{}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		portStr, addr, hasPort := strings.Cut(f, "=")
		if !hasPort {
			addr = f
		}
		addr = strings.TrimSpace(addr)
		if err := checkLoopback(addr); err != nil {
			return nil, "", err
		}
		if !hasPort {
			all = addr
			continue
		}
		p, err := strconv.ParseUint(strings.TrimSpace(portStr), 10, 16)
		if err != nil || p == 0 {
			return nil, "", fmt.Errorf("bad port %q", portStr)
		}
		perPort[int32(p)] = addr
	}
	return perPort, all, nil
}

func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad address %q: %v", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("bad port in %q", addr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return fmt.Errorf("refusing to dial %q: only 127.0.0.0/8 and ::1 are allowed", addr)
	}
	return nil
}

// refuseBackend fails like a kubelet (containerd) does for a port nothing
// listens on.
type refuseBackend struct{}

func (refuseBackend) serve(_ context.Context, t target, _ io.ReadWriteCloser) error {
	return refusedError(t.pod, t.port)
}

func refusedError(pod *corev1.Pod, port int32) error {
	return fmt.Errorf("failed to connect to localhost:%d inside namespace %q, IPv4: dial tcp4 127.0.0.1:%d: connect: connection refused IPv6 dial tcp6 [::1]:%d: connect: connection refused ",
		port, string(pod.UID), port, port)
}

// responderBackend greets with "pod=<ns>/<name> port=<port>\n" and then
// echoes everything back until the client closes its side.
type responderBackend struct{}

func (responderBackend) serve(_ context.Context, t target, stream io.ReadWriteCloser) error {
	if _, err := fmt.Fprintf(stream, "pod=%s/%s port=%d\n", t.pod.Namespace, t.pod.Name, t.port); err != nil {
		return nil
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := stream.Read(buf)
		if n > 0 {
			if _, err := stream.Write(buf[:n]); err != nil {
				return nil
			}
		}
		if rerr != nil {
			_ = stream.Close() // EOF: the client is done; half-close our side too
			return nil
		}
	}
}

// dialBackend proxies the stream to a loopback TCP address, passing
// half-closes through in both directions.
type dialBackend struct{ addr string }

func (d dialBackend) serve(ctx context.Context, t target, stream io.ReadWriteCloser) error {
	if err := checkLoopback(d.addr); err != nil {
		return err
	}
	var dialer net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := dialer.DialContext(dctx, "tcp", d.addr)
	cancel()
	if err != nil {
		return fmt.Errorf("failed to connect to localhost:%d inside namespace %q (dial target %s): %v",
			t.port, string(t.pod.UID), d.addr, err)
	}
	defer conn.Close()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // client -> backend
		defer wg.Done()
		_, _ = io.Copy(conn, stream)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	go func() { // backend -> client
		defer wg.Done()
		_, err := io.Copy(stream, conn)
		if err != nil && !errors.Is(err, net.ErrClosed) {
			resetStream(stream)
			return
		}
		_ = stream.Close() // SPDY: half-close (FIN)
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		conn.Close()
		<-done
	}
	return nil
}

// httpServeBackend serves HTTP/1.1 over the stream (see httpbackend.go).
type httpServeBackend struct{}

func (httpServeBackend) serve(ctx context.Context, t target, stream io.ReadWriteCloser) error {
	return t.http.serve(ctx, t, stream)
}
