// LedgerProjection: the whole workspace as one pure fold of the event log.
//
//   LedgerView apply(LedgerView, Envelope)
//
// Deterministic: no clock, no I/O, no randomness. Full replay, incremental folding and
// snapshot + tail give byte-identical state (serialize() is deterministic). Everything a
// person reads — canvas, goals, deal threads, pipeline metrics, content opportunities — is
// this state, or a pure function of it and a "now" the caller passes in.
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "leanos/v1/events.pb.h"
#include "leanos/v1/projections.pb.h"

namespace leanos::projections {

using v1::Envelope;
using v1::LedgerView;

// The projection's schema version: snapshots written by another version are not used.
// v4: folded in business-time order; confidence, goal progress and canvas metrics computed
// from the facts. v6: segments (ICP, narrative) and when a campaign opened. v7: late inputs,
// aggregates by goal and segment, and a core with every field but the finished deals. v8:
// corrected learnings, unknown margins and costs, one-off revenue, pilots that concluded.
// v9: a lost deal's reason is no longer copied (sealed free text). v10: a deal's stage is
// the Stage enum. v11 (core v10): aggregates for every combination of goal, segment and
// campaign.
inline constexpr const char* kLedgerSnapshotName = "ledger-v11";
// The view without its finished deals (canvas, goals, metric aggregates, marketing, and the
// deals still in play): bounded by the pipeline, not the history, so it can be snapshotted
// often and loaded fast; a finished deal is rebuilt from its stream when an event touches it.
inline constexpr const char* kCoreSnapshotName = "ledger-core-v10";
// The same two, keyed by business time C instead of position: the fold of every event known
// at the snapshot's known_through position that occurred on or before C.
inline constexpr const char* kLedgerTimeSnapshotName = "ledger-at-v10";
inline constexpr const char* kCoreTimeSnapshotName = "ledger-core-at-v10";

// Every snapshot name this build writes (the ledger's four, the files layer's): `leanos
// replay` drops the snapshots of any other, which an earlier build wrote and nothing reads.
std::vector<std::string> snapshot_names();

LedgerView empty_ledger();
// Folds one event. The state is right when events come in business-time order
// (occurred_at, then position): actors/ledger_reader.h reads the log in that order.
void apply(LedgerView& view, const Envelope& e);
// Whether an event's fold gives the same state in any order relative to every other event:
// a document's version (the latest by business time wins, whenever it is folded), a file
// version or content, an import's record (counted only). A snapshot stays usable when such
// events are recorded late: they are folded on top of it (actors/ledger_reader.cpp).
bool order_free(const Envelope& e);

// A message's bytes with map entries sorted: the same state, the same bytes (every snapshot).
std::string deterministic_bytes(const google::protobuf::MessageLite& message);
// Deterministic bytes (map entries sorted): the snapshot format and the identity test.
std::string serialize(const LedgerView& view);
bool parse(const std::string& bytes, LedgerView* view);
// The core: everything but the finished deals (closed and learned from).
std::string serialize_core(const LedgerView& view);
// The same, given the ids of the deals in play, for a caller that keeps them as it folds:
// finding them costs a walk over every deal, and history has many.
std::string serialize_core(const LedgerView& view, const std::set<std::string>& in_play_ids);
bool in_play(const v1::DealView& deal);
// Whether an opportunity is the case study a deal's learning about an assumption raised (one
// per deal and assumption: the canvas fold withdraws it, the marketing manager raises no other).
bool case_study_of(const v1::OpportunityView& o, const std::string& deal_id, const std::string& assumption_id);

// A lead recorded after the input SLA (deadline::kInputRecordedHours after it came in), and
// whether today's queue at `now` still shows it (deadline::kLateInputShownDays).
bool late_input(const v1::DealView& deal);
bool late_input_shown(const v1::LateInput& late, std::int64_t now);
// The aggregates' key for the deals of one goal in one segment.
std::string goal_segment_key(const std::string& goal, const std::string& segment);
// The aggregates' key for the deals of a goal, a segment and a campaign, any of them empty
// (not a dimension of the key; all three empty: every deal): "goal:G/segment:S/campaign:C".
std::string aggregates_key(std::string_view goal, std::string_view segment, std::string_view campaign);
std::set<std::string> deals_in_play(const LedgerView& view);

// One deal's view from its own events (folded in business-time order).
v1::DealView rebuild_deal(const std::vector<Envelope>& events);

// A protobuf map's entries in key order. Map iteration order depends on insertion history
// (a parsed snapshot and an incremental fold differ), so anything shown or derived from a
// map iterates through this.
template <class Map>
std::vector<const typename Map::value_type*> sorted(const Map& map) {
  std::vector<const typename Map::value_type*> out;
  out.reserve(map.size());
  for (const auto& entry : map) out.push_back(&entry);
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  return out;
}

}  // namespace leanos::projections
