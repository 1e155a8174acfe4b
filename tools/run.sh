#!/usr/bin/env bash
# The main job (`make run`): the gRPC server on the workspace in ./data. On first start it
# loads the seed's worked example (tools/seed-example.sh); it checks the log, prints the
# morning, then serves gRPC on 127.0.0.1:${LEANOS_PORT:-7700} and the dashboard on
# http://127.0.0.1:${LEANOS_HTTP_PORT:-7701}/ until Ctrl-C.
set -euo pipefail
leanos=${1:-build/tools/leanos}
data=${2:-data}
export LEANOS_DATA=$data
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -e $data/CURRENT ]]; then
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
echo "== leanos whatif goal g-mrr-50k --without gamma-health --as-of 2026-03-01   (a branch beside reality; nothing recorded)"
"$leanos" whatif goal g-mrr-50k --without gamma-health --as-of 2026-03-01
port=${LEANOS_PORT:-7700}
http_port=${LEANOS_HTTP_PORT:-7701}
cat <<EOT

== serving $data on 127.0.0.1:$port (Ctrl-C stops it)
  dashboard: open http://127.0.0.1:$http_port/ in a browser (drag the slider to 2026-03-01)
From another terminal:
  $leanos subscribe --server 127.0.0.1:$port --from 1 --limit 5          # catch up, then live
  $leanos subscribe --server 127.0.0.1:$port --name sales-materials-generation --type ActionStarted
  $leanos --server 127.0.0.1:$port canvas assume A7 --statement "..." --confidence 40   # record through the server
  $leanos --server 127.0.0.1:$port canvas show --as-of 2026-02-20        # query through the server
  $leanos --server 127.0.0.1:$port audit acme-corp
  grpcurl -plaintext 127.0.0.1:$port list                                # server reflection
  curl -s 'http://127.0.0.1:$http_port/api/v1/canvas?as_of=2026-03-01'   # the JSON API
  curl -sN 'http://127.0.0.1:$http_port/api/v1/events?from=1'            # the event stream (SSE)
While the server owns $data, every command and query goes through it with --server.
EOT
exec "$leanos" serve --listen "127.0.0.1:$port" --http "127.0.0.1:$http_port"
