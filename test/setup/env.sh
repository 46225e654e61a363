# Sourced by the project's scripts: the cache folder, and Node 24 first on PATH.
# @kubernetes/client-node 2.x needs Node >= 22.19; the machine may have an older Node, so the
# tests and the demo run on Node 24 from the npm registry's node-linux-<arch> package, cached.
KF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KF_CACHE=${KUBE_FORWARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-forward}
KF_NODE_VERSION=24.21.0
export KF_ROOT KF_CACHE

# When started by `npm test` on the machine's Node, npm exports its own user agent (naming that
# Node); npm run inside would inherit it as config, and install scripts that check the Node
# version from it (code-server's) would see the wrong one.
unset npm_config_user_agent

kf_log() { printf '\033[1m[kube-forward]\033[0m %s\n' "$*" >&2; }

kf_node24() {
  local arch
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  local pkg="node-linux-$arch" dir="$KF_CACHE/node-v$KF_NODE_VERSION"
  local home="$dir/node_modules/$pkg"
  if [ ! -x "$home/bin/node" ]; then
    kf_log "installing Node $KF_NODE_VERSION ($pkg) into $dir"
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"private":true}' > "$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$pkg@$KF_NODE_VERSION" >&2
  fi
  export PATH="$home/bin:$PATH"
  KF_NODE_HOME="$home"
  export KF_NODE="$home/bin/node"
}

# npm ci when node_modules is missing or older than the lock file.
kf_npm_ci() {
  if [ ! -f "$KF_ROOT/node_modules/.package-lock.json" ] || [ "$KF_ROOT/package-lock.json" -nt "$KF_ROOT/node_modules/.package-lock.json" ]; then
    kf_log "npm ci"
    (cd "$KF_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# Type-checks and compiles the TypeScript (out/) and builds the bundles (dist/).
kf_build() {
  kf_log "compiling TypeScript and building bundles"
  (cd "$KF_ROOT" && rm -rf out && npx tsc -p tsconfig.json && npx tsc -p webview/tsconfig.json && node esbuild.mjs) >&2
}

# apt-get install the named Debian packages that are missing (apt-get update once, first).
kf_apt() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    kf_log "error: missing Debian packages ${missing[*]}: install them with sudo apt-get install ${missing[*]}"
    return 1
  fi
  kf_log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Builds (or reuses) the control plane binaries and the fake node; exports KF_BIN_DIR, KF_FAKENODE.
kf_control_plane() {
  kf_apt openssl ca-certificates
  KF_BIN_DIR=$("$KF_ROOT/test/cluster/bins/build.sh")
  local src="$KF_ROOT/test/cluster/fakenode" hash
  hash=$(cd "$src" && cat go.mod go.sum $(ls *.go | grep -v _test.go) | sha256sum | cut -c1-16)
  KF_FAKENODE="$KF_CACHE/fakenode-$hash/fakenode"
  if [ ! -x "$KF_FAKENODE" ]; then
    kf_log "building the fake node"
    (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$KF_FAKENODE.tmp" . && mv "$KF_FAKENODE.tmp" "$KF_FAKENODE") >&2
  fi
  export KF_BIN_DIR KF_FAKENODE
}

# code-server (a real VS Code 1.139 with a Node extension host) for the extension tests; kept out
# of package.json (heavy native builds) and installed into the cache. Exports KF_CODE_SERVER.
KF_CODE_SERVER_VERSION=4.139.1
kf_code_server() {
  local dir="$KF_CACHE/code-server-$KF_CODE_SERVER_VERSION"
  KF_CODE_SERVER="$dir/node_modules/code-server/out/node/entry.js"
  if [ ! -f "$dir/.complete" ]; then
    kf_apt build-essential python3 pkg-config libkrb5-dev libsecret-1-dev chromium
    kf_log "installing code-server $KF_CODE_SERVER_VERSION into $dir (several minutes: it compiles native modules)"
    rm -rf "$dir" && mkdir -p "$dir"
    echo '{"private":true}' > "$dir/package.json"
    # npm 11 blocks dependency install scripts unless approved; code-server needs them (sqlite3,
    # node-pty, its own postinstall), and its install script refuses root unless unsafe-perm.
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --ignore-scripts "code-server@$KF_CODE_SERVER_VERSION" >&2 \
      && npm install-scripts approve --all >&2 \
      && npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir="$KF_NODE_HOME" npm rebuild --foreground-scripts >&2) \
      || { kf_log "error: installing code-server failed (see above)"; return 1; }
    [ -f "$KF_CODE_SERVER" ] || { kf_log "error: code-server entry point missing after install"; return 1; }
    touch "$dir/.complete"
  fi
  export KF_CODE_SERVER
}
