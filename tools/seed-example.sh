#!/usr/bin/env bash
# The seed's worked example (../shared/seeds/sales-workflow.md), as leanos commands:
# goal g-mrr-50k "Reach $50K MRR by Q2" with SG1 "Close first 3 customers"; assumption A4
# "Enterprise customers prefer white-label" at 60 %; five enterprise deals that all choose
# white-label. The fifth, acme-corp, is the third goal-linked close: SG1 3/3, MRR $42K -> $50K,
# A4 95 % (N=5), average deal size $1.05M, cycle time 46 days, a case study at priority 0.85.
# Usage: seed-example.sh [LEANOS-BINARY] [DATA-DIR]
set -euo pipefail
leanos=${1:-build/tools/leanos}
export LEANOS_DATA=${2:-data}
q() { "$leanos" "$@" >/dev/null; }

q goal define g-mrr-50k --title 'Reach $50K MRR by Q2' --metric mrr --target 50000 --due 2026-06-30 --at 2025-10-01 --actor founder
q goal subgoal g-mrr-50k SG1 --title 'Close first 3 customers' --metric customers --target 3 --at 2025-10-01 --actor founder
q canvas assume A4 --statement 'Enterprise customers prefer white-label' --confidence 60 --at 2025-10-01 --actor founder

# deal ID COMPANY LEAD-DATE CLOSE-DATE ARR MRR GOAL-LINKED NEW-CONFIDENCE
deal() {
  local id=$1 company=$2 lead=$3 close=$4 arr=$5 mrr=$6 linked=$7 confidence=$8
  local link=()
  [[ $linked == yes ]] && link=(--goal g-mrr-50k --subgoal SG1)
  q deal open "$id" --company "$company" --segment enterprise --source inbound --channel website \
    --contact-name "Head of Ops" --contact-title "VP Operations" --contact-email "ops@$id.example" \
    --signal 'demo request' "${link[@]}" --at "$lead" --actor sales-execution
  q deal hypothesis "$id" --tests A4 --confidence 60 --at "$lead" --actor sales-execution
  q deal implication "$id" --arr-low 1000000 --arr-high 1500000 --strategic high --cost-hours 40 --priority 0.85 \
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
  q deal close "$id" won --arr "$arr" --mrr "$mrr" --margin 70 --cost 12000 --satisfaction 9 --at "$close" --actor sales-execution
  q deal learn "$id" --assumption A4 --result validated --confidence "$confidence" --evidence "$company chose white-label" \
    --at "$close" --actor sales-execution
}

deal beta-bank     'Beta Bank'      2025-11-01 2025-12-10 1000000 16000 yes 70
deal gamma-health  'Gamma Health'   2025-11-15 2026-01-05 1050000 26000 yes 75
deal delta-freight 'Delta Freight'  2025-12-01 2026-01-20 1000000 0     no  80
deal epsilon-ins   'Epsilon Insure' 2025-12-10 2026-02-10 1100000 0     no  90
deal acme-corp     'Acme Corp'      2026-01-10 2026-02-25 1100000 8000  yes 95
