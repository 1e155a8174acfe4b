#!/usr/bin/env bash
# Installs the Debian packages LeanOS Ledger builds against, once; with --tests also the npm
# packages the tests use (the MCP client). Idempotent: when everything is there it does nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev doctest-dev libcli11-dev
  libgrpc++-dev protobuf-compiler-grpc python3-grpcio python3-protobuf
  nlohmann-json3-dev libyaml-cpp-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libgit2-dev git
  clang libclang-rt-14-dev
  libcpp-httplib-dev libjs-chart.js libsodium-dev libzstd-dev libjemalloc-dev
  nats-server libnats-dev
  libfuse3-dev fuse3
  chromium chromium-driver python3-selenium
  nodejs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with some builds of nodejs (NodeSource's) and is a package of its own in Debian's.
command -v npm >/dev/null || missing+=(npm)

# The MCP server's tests use the official MCP TypeScript SDK as their client, pinned in
# tests/mcp/package-lock.json and installed from the npm registry into tests/mcp/node_modules.
mcp_client() {
  local dir
  dir=$(cd "$(dirname "$0")/../tests/mcp" && pwd)
  if [[ ! -f $dir/node_modules/@modelcontextprotocol/sdk/package.json || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
    echo "setup: installing the MCP test client (npm ci in $dir)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

if ((${#missing[@]} == 0)); then
  [[ ${1:-} == --tests ]] && mcp_client
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
[[ ${1:-} == --tests ]] && mcp_client
exit 0
