package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
)

// payload is the shared, read-only source of /bytes bodies.
var payload = func() []byte {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
	b := make([]byte, 256<<10)
	for i := range b {
		b[i] = alphabet[i%len(alphabet)]
	}
	return b
}()

// httpBackend is one http.Server shared by every stream whose backend is
// "http"; each stream is a connection handed over through connListener.
type httpBackend struct {
	ln  *connListener
	srv *http.Server
}

type targetKey struct{}

func newHTTPBackend() *httpBackend {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", handleInfo)
	mux.HandleFunc("GET /bytes", handleBytes)
	mux.HandleFunc("POST /echo", handleEcho)
	mux.HandleFunc("GET /status/{code}", handleStatus)
	mux.HandleFunc("/", http.NotFound)
	b := &httpBackend{ln: newConnListener()}
	b.srv = &http.Server{
		Handler: mux,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if sc, ok := c.(*streamConn); ok {
				ctx = context.WithValue(ctx, targetKey{}, sc.target)
			}
			return ctx
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = b.srv.Serve(b.ln) }()
	return b
}

// serve hands the stream to the HTTP server and waits until the server has
// closed the connection (client done) or ctx ends.
func (b *httpBackend) serve(ctx context.Context, t target, stream io.ReadWriteCloser) error {
	c := newStreamConn(stream, t)
	select {
	case b.ln.conns <- c:
	case <-ctx.Done():
		return c.Close()
	}
	select {
	case <-c.done():
	case <-ctx.Done():
		c.Close()
	}
	return nil
}

func targetOf(r *http.Request) target {
	t, _ := r.Context().Value(targetKey{}).(target)
	return t
}

func handleInfo(w http.ResponseWriter, r *http.Request) {
	t := targetOf(r)
	var name, ns string
	if t.pod != nil {
		name, ns = t.pod.Name, t.pod.Namespace
	}
	body, _ := json.Marshal(struct {
		Pod       string `json:"pod"`
		Namespace string `json:"namespace"`
		Port      int32  `json:"port"`
	}{name, ns, t.port})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// handleBytes streams n bytes from the shared payload buffer.
func handleBytes(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err != nil || n < 0 {
		http.Error(w, "n must be a non-negative integer", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	for n > 0 {
		chunk := payload
		if n < int64(len(chunk)) {
			chunk = chunk[:n]
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
		n -= int64(len(chunk))
	}
}

// handleEcho streams the request body back while it is still arriving.
func handleEcho(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).EnableFullDuplex()
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if r.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 64<<10)
	_, _ = io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r.Body}, buf)
}

func handleStatus(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		http.Error(w, "status code must be 200-599", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, strconv.Itoa(code)+" "+http.StatusText(code)+"\n")
}
