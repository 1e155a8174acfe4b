// The commands the server decodes (CommandRequest over gRPC), decided by the rules in
// sequence against the state their accepted predecessors built, then folded by the
// projections: whatever the rules accept, the store can store and read back.
#include <cstddef>
#include <cstdint>

#include "events/rules.h"
#include "leanos/v1/api.pb.h"
#include "projections/ledger.h"
#include "tests/fuzz/fuzz_support.h"

using namespace leanos;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  v1::CommandRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  std::vector<Envelope> commands(req.batch().begin(), req.batch().end());
  if (req.has_command()) commands.insert(commands.begin(), req.command());
  DealState deal;
  CampaignState campaign;
  SegmentState segment;
  DocumentsState documents;
  Facts facts;
  facts.assumptions = {"A1", "A4"};
  facts.goals["g1"] = {"SG1"};
  facts.campaigns = {"2026-01-01-c"};
  auto view = projections::empty_ledger();
  for (auto c : commands) {
    if (c.event_id().empty()) c.set_event_id("e");
    if (!store::check_storable(c).is_ok()) continue;  // the store refuses it before the rules run
    Result<Events> decided = Status::invalid("not a command");
    if (!deal_id_of(c).empty()) decided = decide_deal(deal, c, facts);
    else if (!campaign_id_of(c).empty()) decided = decide_campaign(campaign, c, facts);
    else if (c.has_icp_defined() || c.has_narrative_written() || c.has_material_published() || c.has_material_feedback())
      decided = decide_segment(segment, c);
    else if (c.has_document_written())
      decided = decide_document(documents, c);
    else decided = decide_workspace(c, facts);
    if (!decided) continue;
    for (auto& e : *decided) {
      fuzz::storable_reads_back(e);
      if (!store::check_storable(e).is_ok()) continue;
      apply(deal, e);
      apply(campaign, e);
      apply(segment, e);
      projections::apply(view, e);
    }
  }
  (void)projections::serialize(view);
  return 0;
}
