#!/usr/bin/env bash
# Installs the Debian packages LeanOS Ledger builds against, once.
# Idempotent: when every package is already installed it does nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev doctest-dev libcli11-dev
  libgrpc++-dev protobuf-compiler-grpc python3-grpcio python3-protobuf
  nlohmann-json3-dev libyaml-cpp-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libgit2-dev git
  clang libclang-rt-14-dev
  libcpp-httplib-dev libjs-chart.js libsodium-dev libzstd-dev
  nats-server libnats-dev
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
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
