#!/usr/bin/env bash
# npm test: sets up everything a fresh machine lacks, starts the test control plane, runs every
# test (unit, cluster smoke, engine end-to-end, extension integration in code-server, UI
# end-to-end) with Node's test runner, stops the control plane, and ends with the runner's summary.
set -euo pipefail
source "$(dirname "$0")/setup/env.sh"
cd "$KF_ROOT"
mkdir -p .test-artifacts
setup_log="$KF_ROOT/.test-artifacts/setup.log"

kf_log "setting up (details in $setup_log)"
{
  kf_node24
  kf_apt openssl ca-certificates util-linux procps iproute2 unzip
  kf_npm_ci
  kf_build
  kf_control_plane
  kf_code_server
} 2> >(tee -a "$setup_log" >&2)

# The tests get a control plane of their own (two clusters, for multi-cluster tests), apart from a
# developer's `npm run cluster:up` one.
export KF_CLUSTER_DIR="$KF_ROOT/.cluster-test"
teardown() {
  node out/test/cluster/cli.js down >>"$setup_log" 2>&1 || true
}
trap teardown EXIT
trap 'exit 130' INT TERM
node out/test/cluster/cli.js up --clusters 2 2> >(tee -a "$setup_log" >&2)

shopt -s globstar
files=()
for f in out/test/unit/**/*.test.js out/test/cluster/*.test.js out/test/e2e/**/*.test.js \
         out/test/vscode/*.test.js out/test/ui/*.test.js out/test/zz-leftovers.test.js; do
  [ -f "$f" ] && files+=("$f")
done
set +e
node --test --test-concurrency=1 --test-reporter=spec --test-timeout=600000 "${files[@]}"
code=$?
set -e
teardown
trap - EXIT
exit $code
