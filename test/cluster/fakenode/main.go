// Command fakenode stands in for a kubelet in the Kube Forward test cluster.
//
// It registers a Ready Node, binds and "runs" every pod (there is no
// scheduler and no container runtime), and serves the kubelet's real
// port-forward library (k8s.io/cri-streaming) on a TLS listener so that the
// API server's pods/portforward subresource works end to end, over SPDY and
// WebSocket. What a forwarded port does is chosen per pod by annotations (see
// backends.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type options struct {
	kubeconfig string
	nodeName   string
	listen     string
	certFile   string
	keyFile    string
	readyFile  string
	podCIDR    string
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "path to a kubeconfig with admin credentials (required)")
	flag.StringVar(&o.nodeName, "node-name", "fake-node-1", "name of the Node to register")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "TLS listen address for the kubelet API (port-forward)")
	flag.StringVar(&o.certFile, "tls-cert-file", "", "serving certificate (PEM); a self-signed one is generated when empty")
	flag.StringVar(&o.keyFile, "tls-private-key-file", "", "serving private key (PEM)")
	flag.StringVar(&o.readyFile, "ready-file", "", "when serving and the Node is Ready, write the TLS port (decimal + newline) here atomically")
	flag.StringVar(&o.podCIDR, "pod-cidr", "10.244.0.0/16", "CIDR for synthetic pod IPs (never dialled)")
	flag.Parse()

	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("fakenode: ")

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Printf("fatal: %v", err)
		os.Exit(1)
	}
	log.Printf("stopped")
}

func run(ctx context.Context, o options) error {
	if o.kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required")
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return fmt.Errorf("--tls-cert-file and --tls-private-key-file go together")
	}
	ips, err := newIPAllocator(o.podCIDR)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.UserAgent = "fakenode/" + o.nodeName
	cfg.QPS, cfg.Burst = 200, 400
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	tlsCfg, err := serverTLSConfig(o.certFile, o.keyFile, o.nodeName)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.listen, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port

	registry := newStreamRegistry()
	pods := newPodController(client, o.nodeName, ips, registry)
	fwd := newForwarder(registry)
	srv := newKubeletServer(tlsCfg, o.nodeName, pods, fwd)

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("kubelet API listening on https://%s", ln.Addr())

	node := newNodeAgent(client, o.nodeName, int32(port), o.podCIDR)
	if err := node.register(ctx); err != nil {
		srv.Close()
		if ctx.Err() != nil {
			return nil // signalled while waiting for the API server
		}
		return err
	}
	go node.heartbeat(ctx)

	if err := pods.start(ctx); err != nil {
		srv.Close()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	log.Printf("node %s Ready, pod informer synced", o.nodeName)

	if o.readyFile != "" {
		if err := writeFileAtomic(o.readyFile, fmt.Sprintf("%d\n", port)); err != nil {
			srv.Close()
			return fmt.Errorf("ready file: %w", err)
		}
		log.Printf("wrote port %d to %s", port, o.readyFile)
	}

	select {
	case <-ctx.Done():
		log.Printf("signal received, shutting down")
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	}
	srv.Close() // hijacked port-forward connections are not tracked; the process exits anyway
	pods.stop()
	return nil
}

// writeFileAtomic writes content to a temporary file next to path and renames
// it into place, so a watcher never sees a partial file.
func writeFileAtomic(path, content string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
