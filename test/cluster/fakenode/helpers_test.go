package main

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var errReset = errors.New("stream reset")

// pipeStream is one end of an in-memory stream with SPDY-like semantics:
// Close half-closes (the peer reads EOF), Reset kills both directions.
type pipeStream struct {
	r         *io.PipeReader
	w         *io.PipeWriter
	peerR     *io.PipeReader
	resetOnce sync.Once
	resetCh   chan struct{}
}

func newPipeStreams() (client, server *pipeStream) {
	c2sR, c2sW := io.Pipe()
	s2cR, s2cW := io.Pipe()
	client = &pipeStream{r: s2cR, w: c2sW, peerR: c2sR, resetCh: make(chan struct{})}
	server = &pipeStream{r: c2sR, w: s2cW, peerR: s2cR, resetCh: make(chan struct{})}
	return client, server
}

func (p *pipeStream) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipeStream) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *pipeStream) Close() error                { return p.w.Close() }
func (p *pipeStream) Reset() error {
	p.resetOnce.Do(func() {
		close(p.resetCh)
		p.w.CloseWithError(errReset)
		p.r.CloseWithError(errReset)
		p.peerR.CloseWithError(errReset)
	})
	return nil
}

func testPod(name string, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default", Name: name, UID: types.UID("uid-" + name), Annotations: ann,
		},
		Spec: corev1.PodSpec{
			NodeName:   "fake-node-1",
			Containers: []corev1.Container{{Name: "main", Image: "nginx:1.27"}},
		},
	}
}

// readLine reads up to and including the first newline.
func readLine(t *testing.T, r io.Reader) string {
	t.Helper()
	var out []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			out = append(out, b[0])
			if b[0] == '\n' {
				return string(out)
			}
		}
		if err != nil {
			t.Fatalf("readLine: %v (got %q)", err, out)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
