package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

const (
	portForwardIdleTimeout    = 4 * time.Hour
	streamCreationTimeout     = 30 * time.Second
	podLookupTimeout          = 10 * time.Second
	readHeaderTimeout         = 30 * time.Second
	selfSignedCertificateLife = 365 * 24 * time.Hour
)

// podLookup finds pods for the port-forward handler.
type podLookup interface {
	lookup(ctx context.Context, namespace, name string) (*corev1.Pod, error)
}

// kubeletServer is the fake kubelet API: /portForward only (plus /healthz).
type kubeletServer struct {
	srv *http.Server
}

func newKubeletServer(tlsCfg *tls.Config, nodeName string, pods podLookup, fwd *forwarder) *kubeletServer {
	h := &portForwardHandler{nodeName: nodeName, pods: pods, fwd: fwd}
	mux := http.NewServeMux()
	mux.Handle("/portForward/{namespace}/{pod}", h)
	mux.Handle("/portForward/{namespace}/{pod}/{uid}", h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return &kubeletServer{srv: &http.Server{
		Handler:           mux,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: readHeaderTimeout,
		// HTTP/1.1 only: the SPDY upgrade hijacks the connection.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(log.Writer(), log.Prefix()+"http: ", log.Flags()),
	}}
}

func (s *kubeletServer) Serve(ln net.Listener) error {
	err := s.srv.ServeTLS(ln, "", "")
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

func (s *kubeletServer) Close() error { return s.srv.Close() }

type portForwardHandler struct {
	nodeName string
	pods     podLookup
	fwd      *forwarder
}

// ServeHTTP mirrors the kubelet's getPortForward: parse WebSocket port
// options, find the pod (404 if unknown or UID mismatch), then hand over to
// the library, which upgrades to SPDY or WebSocket.
func (h *portForwardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ns, name, uid := r.PathValue("namespace"), r.PathValue("pod"), types.UID(r.PathValue("uid"))
	opts := &portforward.V4Options{}
	if wsstream.IsWebSocketRequest(r) {
		var err error
		if opts, err = portforward.NewV4Options(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), podLookupTimeout)
	pod, err := h.pods.lookup(ctx, ns, name)
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		http.Error(w, "pod does not exist", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	case uid != "" && pod.UID != uid, pod.Spec.NodeName != h.nodeName:
		http.Error(w, "pod not found", http.StatusNotFound)
		return
	case isTerminal(pod.Status.Phase):
		// A kubelet cannot forward into a pod whose sandbox is gone.
		http.Error(w, fmt.Sprintf("pod %s/%s is not running (phase %s)", ns, name, pod.Status.Phase), http.StatusInternalServerError)
		return
	}
	log.Printf("port-forward %s/%s (%s) from %s", ns, name, protocolOf(r), r.RemoteAddr)
	portforward.ServePortForward(w, r, h.fwd.forPod(pod), pod.Name, string(pod.UID), opts,
		portForwardIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

func protocolOf(r *http.Request) string {
	if wsstream.IsWebSocketRequest(r) {
		return "websocket"
	}
	return "spdy"
}

// serverTLSConfig loads the serving certificate, or makes a self-signed one.
func serverTLSConfig(certFile, keyFile, nodeName string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if certFile != "" {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	} else {
		cert, err = selfSignedCert(nodeName)
	}
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func selfSignedCert(nodeName string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedCertificateLife),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", nodeName},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
