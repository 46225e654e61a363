#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --rows P1,P3] [-- --reps N] [-- --cpu-prof]
# Kube Forward vs kubectl port-forward (WebSocket, SPDY), kubefwd, client-node's PortForward and
# direct TCP on a control plane of its own (.cluster-bench/), started here and always stopped.
# Prints the tables; writes .bench/latest.json (and .bench/prof/*.cpuprofile with --cpu-prof).
set -euo pipefail
source "$(dirname "$0")/../setup/env.sh"
source "$(dirname "$0")/setup.sh"
cd "$KF_ROOT"
kf_node24
kf_apt openssl ca-certificates procps
if kf_apt wrk; then export WRK=$(command -v wrk); else kf_log "wrk is not installed: P3 uses the Node load generator"; fi
kf_npm_ci
kf_bench_build
# The bench runs its own copy of the bundle, built as it ships (--production: minified, as in
# the .vsix and the npm package): a rebuild of dist/ by someone else mid-run cannot change the
# code under test, and test/zz-leftovers (which looks for dist/sidecar.js processes) cannot
# mistake the bench's sidecars for a test's leftovers.
if [ -z "${KF_BENCH_SIDECAR:-}" ]; then
  mkdir -p .bench && node esbuild.mjs --production --sidecar-only --outfile=.bench/sidecar.js >&2
  export KF_BENCH_SIDECAR="$KF_ROOT/.bench/sidecar.js"
fi
kf_control_plane
if kf_kubefwd; then export KF_KUBEFWD; else kf_log "kubefwd is not available: its columns stay empty"; fi

export KF_CLUSTER_DIR="$KF_ROOT/.cluster-bench"
bench_pid=
teardown() {
  local code=$?
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    # The bench runs in a process group of its own: its forwarders and clients go with it.
    kill -TERM -- "-$bench_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$bench_pid" 2>/dev/null || true
  fi
  node out/test/cluster/cli.js down >&2 || true
  exit $code
}
trap teardown EXIT
trap 'exit 130' INT TERM
node out/test/cluster/cli.js up
setsid node out/test/bench/main.js "$@" &
bench_pid=$!
wait "$bench_pid"
