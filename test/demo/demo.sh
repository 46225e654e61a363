#!/usr/bin/env bash
# npm run demo: sets everything up, starts the demo cluster, forwards namespace demo with the
# sidecar and shows services answering by name. Runs until Ctrl-C on a terminal (once, otherwise);
# every exit path stops the sidecar (which removes its hosts block) and the demo cluster.
set -euo pipefail
source "$(dirname "$0")/../setup/env.sh"
cd "$KF_ROOT"
kf_node24
kf_apt openssl ca-certificates util-linux procps
kf_npm_ci
kf_build
kf_control_plane
# A cluster someone started with `npm run cluster:up` is reused and left running; one the demo
# starts is stopped when the demo ends.
if node out/test/cluster/cli.js status 2>/dev/null | grep -q 'running' && ! node out/test/cluster/cli.js status | grep -q 'NOT RUNNING'; then
  started=0
else
  started=1
fi
node out/test/cluster/cli.js up
cleanup() { [ "$started" = 1 ] && node out/test/cluster/cli.js down >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
node out/test/demo/demo.js "$@"
