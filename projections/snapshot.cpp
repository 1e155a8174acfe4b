// The ledger's state as snapshot bytes (projections/ledger.h): the whole state, or its core
// (every field but the finished deals and the late inputs no query can show any more),
// serialized deterministically so that replay, snapshot + tail and as-of give identical bytes.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/field_mask_util.h>

#include "projections/files.h"
#include "projections/ledger.h"

namespace leanos::projections {

std::string deterministic_bytes(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }  // the stream trims `out` to what was written as it closes
  return out;
}

std::vector<std::string> snapshot_names() {
  return {kLedgerSnapshotName, kCoreSnapshotName, kLedgerTimeSnapshotName, kCoreTimeSnapshotName, kFilesSnapshotName};
}

std::string serialize(const LedgerView& view) { return deterministic_bytes(view); }

bool parse(const std::string& bytes, LedgerView* view) { return view->ParseFromString(bytes); }

bool in_play(const v1::DealView& d) {
  return d.outcome() == v1::OUTCOME_UNSPECIFIED || d.outcome() == v1::STALLED || !d.learning_at();
}

std::set<std::string> deals_in_play(const LedgerView& view) {
  std::set<std::string> ids;
  for (const auto& [id, d] : view.deals())
    if (in_play(d)) ids.insert(id);
  return ids;
}

std::string serialize_core(const LedgerView& view) { return serialize_core(view, deals_in_play(view)); }

std::string serialize_core(const LedgerView& view, const std::set<std::string>& in_play_ids) {
  // Every field but the deals and the late inputs, named from the descriptor: a field added
  // to LedgerView is in the core unless it is left out here on purpose.
  static const google::protobuf::FieldMask all_but_deals = [] {
    google::protobuf::FieldMask mask;
    const auto* d = LedgerView::descriptor();
    for (int i = 0; i < d->field_count(); ++i)
      if (d->field(i)->number() != LedgerView::kDealsFieldNumber && d->field(i)->number() != LedgerView::kLateInputsFieldNumber)
        mask.add_paths(d->field(i)->name());
    return mask;
  }();
  LedgerView core;
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(view, all_but_deals, {}, &core);
  // Deals still in play (open, or closed and not yet learned from): bounded by the pipeline,
  // not by history, and the ones the next events are most likely to touch.
  for (const auto& id : in_play_ids)
    if (auto it = view.deals().find(id); it != view.deals().end()) (*core.mutable_deals())[id] = it->second;
  // Late inputs a query from here on can show, only: a view's "now" is never before the
  // latest business time folded, and the queue shows a late input for a week after its lead.
  // (Copying them all grew each core snapshot with history: a replay writing snapshots
  // slowed with the square of the log.)
  for (const auto& [id, late] : view.late_inputs())
    if (late_input_shown(late, view.max_occurred_at())) (*core.mutable_late_inputs())[id] = late;
  return serialize(core);
}

}  // namespace leanos::projections
