#!/usr/bin/env bash
# The main job (`make run`): the workspace in ./data. On first start it loads the seed's
# worked example (tools/seed-example.sh); then it checks the log and prints the morning.
set -euo pipefail
leanos=${1:-build/tools/leanos}
data=${2:-data}
export LEANOS_DATA=$data
here=$(cd "$(dirname "$0")" && pwd)
if [[ $("$leanos" log --limit 1 | wc -l) -eq 0 ]]; then
  echo "== first start: loading the seed's example workspace into $data"
  bash "$here/seed-example.sh" "$leanos" "$data"
fi
echo "== leanos verify"
"$leanos" verify
echo
echo "== leanos today --as-of 2026-03-01"
"$leanos" today --as-of 2026-03-01
echo
echo "== leanos canvas show"
"$leanos" canvas show
echo
echo "== leanos goal show g-mrr-50k"
"$leanos" goal show g-mrr-50k --as-of 2026-03-01
echo
echo "== leanos why canvas A4"
"$leanos" why canvas A4
echo
echo "The workspace is in $data. Try: $leanos --data $data audit acme-corp"
