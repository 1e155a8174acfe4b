#!/usr/bin/env bash
# The main job (`make run`): the workspace in ./data, checked and shown.
# Loads the seed's example workspace on first start, then prints what the log holds.
set -euo pipefail
leanos=${1:-build/tools/leanos}
data=${2:-data}
export LEANOS_DATA=$data
if [[ ! -d $data ]] || [[ $("$leanos" log --limit 1 | wc -l) -eq 0 ]]; then
  if "$leanos" help-demo >/dev/null 2>&1; then "$leanos" demo; fi
fi
"$leanos" verify
"$leanos" log --limit 50
