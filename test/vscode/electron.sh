#!/usr/bin/env bash
# npm run test:electron — see test/vscode/electron.ts. Starts the test cluster, runs the suite in a
# downloaded desktop VS Code, stops the cluster.
set -euo pipefail
source "$(dirname "$0")/../setup/env.sh"
cd "$KF_ROOT"
kf_node24
kf_npm_ci
kf_build
kf_control_plane
export KF_CLUSTER_DIR="$KF_ROOT/.cluster-electron"
trap 'node out/test/cluster/cli.js down >/dev/null 2>&1 || true' EXIT
node out/test/cluster/cli.js up
node out/test/vscode/electron.js
