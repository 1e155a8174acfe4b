#!/usr/bin/env bash
# The seed's worked example (../shared/seeds/sales-workflow.md), as leanos commands:
# goal g-mrr-50k "Reach $50K MRR by Q2" with SG1 "Close first 3 customers"; assumption A4
# "Enterprise customers prefer white-label" at 60 %; five enterprise deals that all choose
# white-label. The fifth, acme-corp, is the third goal-linked close: SG1 3/3, MRR $42K -> $50K,
# A4 95 % (N=5), cycle time 46 days, a case study at priority 0.85.
# The seed writes "ARR: $1.1M" beside "MRR: $42K -> $50K" for the same deal, which cannot both
# hold: ARR is 12 x MRR. The goal's MRR is the seed's story, so the deals' values follow from
# their MRR (acme-corp: $8,000 a month, ARR $96,000); epsilon-ins also pays a one-off
# implementation fee, which is not recurring revenue. In all: MRR $95,000, ARR $1,140,000,
# one-off $60,000, average first-year deal size $240,000.
# Usage: seed-example.sh [LEANOS-BINARY] [DATA-DIR]
set -euo pipefail
leanos=${1:-build/tools/leanos}
export LEANOS_DATA=${2:-data}
q() { "$leanos" "$@" >/dev/null; }

q goal define g-mrr-50k --title 'Reach $50K MRR by Q2' --metric mrr --target 50000 --due 2026-06-30 --at 2025-10-01 --actor founder
q goal subgoal g-mrr-50k SG1 --title 'Close first 3 customers' --metric customers --target 3 --at 2025-10-01 --actor founder
q canvas assume A4 --statement 'Enterprise customers prefer white-label' --confidence 60 --at 2025-10-01 --actor founder

# deal ID COMPANY LEAD-DATE CLOSE-DATE 'REVENUE-OPTIONS' GOAL-LINKED NEW-CONFIDENCE
deal() {
  local id=$1 company=$2 lead=$3 close=$4 revenue=$5 linked=$6 confidence=$7
  local link=()
  [[ $linked == yes ]] && link=(--goal g-mrr-50k --subgoal SG1)
  q deal open "$id" --company "$company" --segment enterprise --source inbound --channel website \
    --contact-name "Head of Ops" --contact-title "VP Operations" --contact-email "ops@$id.example" \
    --signal 'demo request' "${link[@]}" --at "$lead" --actor sales-execution
  q deal hypothesis "$id" --tests A4 --confidence 60 --at "$lead" --actor sales-execution
  q deal implication "$id" --arr-low 100000 --arr-high 400000 --strategic high --cost-hours 40 --priority 0.85 \
    --at "$lead" --actor sales-execution
  q deal decide "$id" qualify --reason 'Tests A4; enterprise ARR' --alternative 'defer to next quarter' \
    --impact 0.7 --at "$lead" --actor sales-execution
  q deal action "$id" sales:lead-intake start --at "$lead" --actor sales-execution
  q deal action "$id" sales:lead-intake complete --outcome ready_for_qualification --at "$lead" --actor sales-execution
  q deal action "$id" sales:qualify start --at "$lead" --actor sales-qualification-support
  q deal qualify-score "$id" --problem 0.9 --authority 0.8 --budget 0.8 --urgency 0.7 --fit 0.9 --at "$lead"
  q deal action "$id" sales:qualify complete --outcome qualified --at "$lead"
  q deal action "$id" sales:demo start --at "$lead" --actor sales-materials-generation
  q deal action "$id" sales:demo complete --outcome interested --at "$lead"
  q deal action "$id" sales:pilot start --at "$lead"
  q deal action "$id" sales:pilot complete --outcome success --at "$close"
  q deal action "$id" sales:close start --at "$close"
  q deal action "$id" sales:close complete --outcome won --at "$close"
  # shellcheck disable=SC2086 # the revenue options are words
  q deal close "$id" won $revenue --margin 70 --cost 12000 --satisfaction 9 --at "$close" --actor sales-execution
  q deal learn "$id" --assumption A4 --result validated --confidence "$confidence" --evidence "$company chose white-label" \
    --at "$close" --actor sales-execution
}

deal beta-bank     'Beta Bank'      2025-11-01 2025-12-10 '--mrr 16000'                 yes 70
deal gamma-health  'Gamma Health'   2025-11-15 2026-01-05 '--mrr 26000'                 yes 75
deal delta-freight 'Delta Freight'  2025-12-01 2026-01-20 '--arr 240000'                no  80
deal epsilon-ins   'Epsilon Insure' 2025-12-10 2026-02-10 '--arr 300000 --one-off 60000' no  90
deal acme-corp     'Acme Corp'      2026-01-10 2026-02-25 '--mrr 8000'                  yes 95
