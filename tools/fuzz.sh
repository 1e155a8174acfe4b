#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for SECONDS each, two at a time, from the seed
# corpus in tests/fuzz/corpus/<target>/ (read only: new inputs go to a scratch folder).
# Any crash, leak, undefined behaviour, timeout or broken invariant fails with the input
# that caused it saved under $FUZZ_ARTIFACTS (default build-asan/artifacts).
# The build is the clang ASan + UBSan one (make fuzz-build): UBSan is recoverable there so that
# tests/sanitizers/ubsan.supp applies, and halt_on_error makes every other report a crash.
# Usage: fuzz.sh BUILD-DIR SECONDS
set -euo pipefail
build=${1:-build-asan}
seconds=${2:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$here/tests/sanitizers/ubsan.supp}
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
targets=(envelope_fuzz json_fuzz time_fuzz csv_fuzz icp_fuzz command_fuzz markdown_fuzz)
run_one() {
  local t=$1
  mkdir -p "$scratch/$t"
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="$artifacts/$t-" "$scratch/$t" "$here/tests/fuzz/corpus/$t" >"$scratch/$t.log" 2>&1; then
    echo "fuzz: $t ok: $(grep -o "Done [0-9]* runs in [0-9]* second(s)" "$scratch/$t.log" || echo "${seconds}s")"
  else
    echo "fuzz: $t FAILED; last lines:" >&2
    tail -40 "$scratch/$t.log" >&2
    return 1
  fi
}
status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}" || status=1
    wait "${pids[1]}" || status=1
    pids=()
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
