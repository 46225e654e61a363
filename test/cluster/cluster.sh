#!/usr/bin/env bash
# npm run cluster:up|cluster:down|cluster:scale — the test control plane (see README "Test cluster").
set -euo pipefail
source "$(dirname "$0")/../setup/env.sh"
kf_node24
kf_npm_ci
cmd=${1:-up}
if [ "$cmd" = up ]; then kf_control_plane; fi
if [ ! -f "$KF_ROOT/out/test/cluster/cli.js" ] || [ -n "$(find "$KF_ROOT/test/cluster" -name '*.ts' -newer "$KF_ROOT/out/test/cluster/cli.js" | head -1)" ]; then
  (cd "$KF_ROOT" && npx tsc -p tsconfig.json) >&2
fi
exec node "$KF_ROOT/out/test/cluster/cli.js" "$@"
