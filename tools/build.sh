#!/usr/bin/env bash
# Configures and builds one build folder quietly: the compiler's output goes to
# BUILD/build.log and is shown only when the build fails. A CMakeCache.txt written for
# another source folder (a moved or copied checkout) is removed first, not fatal.
# Usage: build.sh BUILD-DIR [TARGETS] [CMAKE-ARGS...]   (TARGETS: one or more, space-separated)
set -euo pipefail
build=$1
target=${2:-all}
shift $(( $# >= 2 ? 2 : 1 ))
src=$(cd "$(dirname "$0")/.." && pwd)
if [[ -f $build/CMakeCache.txt ]]; then
  cached=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
  if [[ $cached != "$src" ]]; then
    echo "build: $build was configured for $cached; starting it afresh for $src"
    rm -rf "$build"
  fi
fi
mkdir -p "$build"
log=$build/build.log
echo "build: $build ($target), log in $log"
if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
       cmake --build "$build" -j "${JOBS:-$(nproc)}" --target $target; } >"$log" 2>&1; then
  grep -E "error|Error|failed" "$log" | head -40 >&2 || true
  tail -20 "$log" >&2
  echo "build: FAILED (the whole output is in $log)" >&2
  exit 1
fi
