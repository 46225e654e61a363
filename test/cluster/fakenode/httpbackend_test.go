package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// httpClientOverStreams returns an HTTP client whose every dial is a new
// in-memory stream served by the HTTP backend as pod/port.
func httpClientOverStreams(t testing.TB, b *httpBackend, tg target) (*http.Client, *atomic.Int32) {
	var dials atomic.Int32
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			dials.Add(1)
			c, s := net.Pipe()
			go func() { _ = b.serve(context.Background(), tg, s) }()
			return c, nil
		},
		DisableCompression: true,
		MaxConnsPerHost:    1,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, &dials
}

func TestHTTPBackend(t *testing.T) {
	pod := testPod("api", map[string]string{annBackend: "http"})
	b := newHTTPBackend()
	client, dials := httpClientOverStreams(t, b, target{pod: pod, port: 8080})

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := client.Get("http://pod" + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s body: %v", path, err)
		}
		return resp, body
	}

	resp, body := get("/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
		string(body) != `{"pod":"api","namespace":"default","port":8080}` {
		t.Fatalf("GET /: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var info struct {
		Pod, Namespace string
		Port           int
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Port != 8080 {
		t.Fatalf("GET / json: %+v %v", info, err)
	}

	for _, n := range []int{0, 1, 1000, 256 << 10, 256<<10 + 1, 3<<20 + 17} {
		resp, body := get("/bytes?n=" + itoa(n))
		if resp.StatusCode != 200 || len(body) != n || resp.ContentLength != int64(n) {
			t.Fatalf("/bytes?n=%d: status %d, %d bytes, Content-Length %d", n, resp.StatusCode, len(body), resp.ContentLength)
		}
		for i := 0; i < n; i += 4099 {
			if body[i] != payload[i%len(payload)] {
				t.Fatalf("/bytes?n=%d: byte %d differs", n, i)
			}
		}
	}
	if resp, _ := get("/bytes?n=-1"); resp.StatusCode != 400 {
		t.Fatalf("/bytes?n=-1: %d", resp.StatusCode)
	}

	for _, code := range []int{200, 201, 204, 404, 418, 503} {
		if resp, _ := get("/status/" + itoa(code)); resp.StatusCode != code {
			t.Fatalf("/status/%d: got %d", code, resp.StatusCode)
		}
	}
	if resp, _ := get("/nope"); resp.StatusCode != 404 {
		t.Fatalf("/nope: %d", resp.StatusCode)
	}

	in := make([]byte, 5<<20+3)
	_, _ = rand.Read(in)
	resp, err := client.Post("http://pod/echo", "application/x-test", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(in, out) || resp.Header.Get("Content-Type") != "application/x-test" {
		t.Fatalf("POST /echo: %d, %d bytes back, equal=%t, %v", resp.StatusCode, len(out), bytes.Equal(in, out), err)
	}
	// Chunked (unknown length) upload.
	resp, err = client.Post("http://pod/echo", "", io.MultiReader(strings.NewReader("abc"), strings.NewReader("def")))
	if err != nil {
		t.Fatal(err)
	}
	out, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(out) != "abcdef" {
		t.Fatalf("chunked echo: %q", out)
	}

	if d := dials.Load(); d != 1 {
		t.Fatalf("keep-alive: %d connections used, want 1", d)
	}
}

// TestHTTPBackendServeReturns checks serve returns when the client goes away.
func TestHTTPBackendServeReturns(t *testing.T) {
	pod := testPod("api", map[string]string{annBackend: "http"})
	b := newHTTPBackend()
	client, server := newPipeStreams()
	done := make(chan error, 1)
	go func() { done <- b.serve(context.Background(), target{pod: pod, port: 80}, server) }()
	_, _ = client.Write([]byte("GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\n"))
	_ = client.Close() // half-close after the request, like `nc -N`
	got, err := io.ReadAll(client)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 201 Created\r\n") {
		t.Fatalf("response %q, %v", got, err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the client closed")
	}
}

func BenchmarkHTTPBytes(b *testing.B) {
	pod := testPod("api", nil)
	hb := newHTTPBackend()
	client, _ := httpClientOverStreams(b, hb, target{pod: pod, port: 80})
	const n = 64 << 20
	b.SetBytes(n)
	for i := 0; i < b.N; i++ {
		resp, err := client.Get("http://pod/bytes?n=" + itoa(n))
		if err != nil {
			b.Fatal(err)
		}
		m, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if m != n {
			b.Fatalf("got %d bytes", m)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
