# Sourced by test/bench/bench.sh after test/setup/env.sh: the bench's own set-up steps.

# Compiles the TypeScript (out/) and the sidecar bundle. Type errors elsewhere in the tree are
# other work in progress and only reported; errors in test/bench stop the bench.
kf_bench_build() {
  kf_log "compiling TypeScript and building dist/sidecar.js"
  local errors
  mkdir -p "$KF_ROOT/.bench"
  # Incremental, with its own build info in .bench/ (git-ignored): a few seconds when nothing changed.
  errors=$(cd "$KF_ROOT" && npx tsc -p tsconfig.json --incremental --tsBuildInfoFile .bench/tsc.tsbuildinfo 2>&1 | grep 'error TS') || true
  if [ -n "$errors" ]; then
    if grep -q '^test/bench/' <<<"$errors"; then
      grep '^test/bench/' <<<"$errors" >&2
      kf_log "error: the bench does not compile"
      return 1
    fi
    kf_log "warning: $(wc -l <<<"$errors") type errors outside test/bench (others' work in progress)"
  fi
  (cd "$KF_ROOT" && node esbuild.mjs) >&2
}

# kubefwd v1.25.16 into the cache (outside the repository), built once. `go install` is the way;
# where the module proxy does not serve kubefwd, KUBEFWD_SRC may name a source tree of that tag
# (e.g. `git archive v1.25.16` of github.com/txn2/kubefwd) to build it from. Exports KF_KUBEFWD.
KF_KUBEFWD_VERSION=v1.25.16
kf_kubefwd() {
  local dir="$KF_CACHE/kubefwd-$KF_KUBEFWD_VERSION"
  KF_KUBEFWD="$dir/kubefwd"
  if [ -x "$KF_KUBEFWD" ]; then return 0; fi
  mkdir -p "$dir"
  kf_log "installing kubefwd $KF_KUBEFWD_VERSION into $dir"
  if GOBIN="$dir" GOTOOLCHAIN=local CGO_ENABLED=0 go install "github.com/txn2/kubefwd/cmd/kubefwd@$KF_KUBEFWD_VERSION" >&2; then
    return 0
  fi
  if [ -n "${KUBEFWD_SRC:-}" ] && [ -f "$KUBEFWD_SRC/cmd/kubefwd/kubefwd.go" ]; then
    kf_log "go install failed; building kubefwd from $KUBEFWD_SRC"
    (cd "$KUBEFWD_SRC" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath \
      -ldflags "-s -w -X main.Version=${KF_KUBEFWD_VERSION#v}" -o "$KF_KUBEFWD.tmp" ./cmd/kubefwd) >&2 \
      && mv "$KF_KUBEFWD.tmp" "$KF_KUBEFWD" \
      && "$KF_KUBEFWD" version 2>/dev/null | grep -q "${KF_KUBEFWD_VERSION#v}" && return 0
  fi
  kf_log "warning: kubefwd $KF_KUBEFWD_VERSION could not be installed (go install failed; set KUBEFWD_SRC to a source tree of that tag to build it)"
  return 1
}
