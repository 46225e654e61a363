#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl and etcd from Go modules into a cache
# keyed by version, and skips the build when the cache is complete.
# Prints the cache directory on its last line (stdout); progress goes to stderr.
set -euo pipefail
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.8
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${KUBE_FORWARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-forward}
out="$cache_root/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
bins=(kube-apiserver kube-controller-manager kubectl etcd)
pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
      k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3)

complete=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || complete=0; done
if [ "$complete" = 1 ] && [ -f "$out/.stamp" ] && cmp -s "$out/.stamp" "$here/go.sum"; then
  echo "control plane binaries: cached in $out" >&2
  echo "$out"; exit 0
fi

command -v go >/dev/null || { echo "error: Go is required to build the control plane (go 1.26)" >&2; exit 1; }
mkdir -p "$out"
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
start=$SECONDS
echo "building the Kubernetes $K8S_VERSION control plane and etcd $ETCD_VERSION from Go modules" >&2
echo "(first build: about 15-25 minutes on 2 cores; later runs reuse $out)" >&2
cd "$here"
for i in "${!bins[@]}"; do
  b=${bins[$i]}
  echo "  [$((i+1))/${#bins[@]}] $b ..." >&2
  t0=$SECONDS
  ( while sleep 60; do echo "      still building $b ($((SECONDS - t0)) s)" >&2; done ) &
  beat=$!
  if ! CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" \
      -o "$out/$b.tmp" "${pkgs[$i]}"; then
    kill "$beat" 2>/dev/null; echo "error: building $b failed" >&2; exit 1
  fi
  kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
  mv "$out/$b.tmp" "$out/$b"
  echo "      done in $((SECONDS - t0)) s" >&2
done
cp "$here/go.sum" "$out/.stamp"
echo "control plane built in $((SECONDS - start)) s" >&2
echo "$out"
