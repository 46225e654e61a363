package main

import (
	"context"
	"fmt"
	"io"
	"log"

	corev1 "k8s.io/api/core/v1"
)

// forwarder runs the backend chosen for each forwarded stream and registers
// the stream so that deleting the pod cuts it.
type forwarder struct {
	registry *streamRegistry
	http     *httpBackend
}

func newForwarder(registry *streamRegistry) *forwarder {
	return &forwarder{registry: registry, http: newHTTPBackend()}
}

// podForwarder is the library's PortForwarder for one request: it knows the
// pod the request was for (the library only passes its name and UID).
type podForwarder struct {
	*forwarder
	pod *corev1.Pod
}

func (f *forwarder) forPod(pod *corev1.Pod) *podForwarder {
	return &podForwarder{forwarder: f, pod: pod}
}

// PortForward implements portforward.PortForwarder. The library never
// cancels ctx; the stream ends when the client closes it, when the backend
// finishes, or when the pod is deleted (registry close).
func (p *podForwarder) PortForward(ctx context.Context, _ string, _ string, port int32, stream io.ReadWriteCloser) error {
	pod := p.pod
	b, err := chooseBackend(pod, port)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deleted := make(chan struct{})
	remove, ok := p.registry.add(pod.UID, func() {
		close(deleted)
		cancel()
		resetStream(stream)
	})
	if !ok {
		return fmt.Errorf("pod %s/%s (uid %s) is being deleted", pod.Namespace, pod.Name, pod.UID)
	}
	defer remove()

	err = b.serve(ctx, target{pod: pod, port: port, http: p.http}, stream)
	select {
	case <-deleted:
		log.Printf("port-forward %s/%s:%d closed: pod deleted", pod.Namespace, pod.Name, port)
		return fmt.Errorf("pod %s/%s (uid %s) was deleted", pod.Namespace, pod.Name, pod.UID)
	default:
		return err
	}
}

// resetStream aborts both directions of a stream: SPDY streams have Reset;
// anything else (WebSocket channels) is closed.
func resetStream(stream io.Closer) {
	if r, ok := stream.(interface{ Reset() error }); ok {
		_ = r.Reset()
		return
	}
	_ = stream.Close()
}
