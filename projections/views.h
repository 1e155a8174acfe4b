// The answers to queries (proto/leanos/v1/views.proto): pure functions of the folded ledger
// and a "now" the caller passes in (the --as-of instant, else its clock). The server returns
// them as they are; the CLI prints them. Nothing here reads the store or the clock.
#pragma once

#include <string>

#include "events/result.h"
#include "events/thread.h"

#include "leanos/v1/views.pb.h"
#include "projections/ledger.h"
#include "projections/metrics.h"

namespace leanos::projections {

// UNTESTED | TESTING | VALIDATED | CHALLENGED | INVALIDATED: the words the views print.
std::string assumption_status_name(v1::AssumptionStatus status);

v1::CanvasView canvas_view(const LedgerView& view);
// The goal as it stands, its trajectory measured at `now`.
v1::GoalView goal_view(const LedgerView& view, const v1::GoalState& goal, std::int64_t now);
v1::MetricsView metrics_view(const LedgerView& view, const DealFilter& filter);
v1::OpportunitiesView opportunities_view(const LedgerView& view);
v1::TodayView today_view(const LedgerView& view, std::int64_t now);
// Open deals (of `segment`, "" = all), latest stage first, then by priority.
v1::PipelineView pipeline_view(const LedgerView& view, std::int64_t now, const std::string& segment);

struct DealListFilter {
  std::string stage, segment, goal;  // "" = any
  v1::DealStatus status = v1::DEAL_STATUS_UNSPECIFIED;  // unspecified = any
};
// invalid_argument naming the filter and the values it takes.
Status check(const DealListFilter& filter);
// open | won | lost | stalled | rejected; `now` decides a stall by inactivity.
v1::DealStatus deal_status(const v1::DealView& deal, std::int64_t now);
// Every deal whose lead was captured by `now` and that matches the filter, by id.
v1::DealList deal_list(const LedgerView& view, std::int64_t now, const DealListFilter& filter);

// A thread's stages as they stand, from its state (events/thread.h).
v1::DealThreadView deal_thread_view(const DealState& deal);
v1::CampaignView campaign_view(const CampaignState& campaign);
// Each segment's ICP and narrative in force, and the campaigns, in key order.
v1::SegmentsView segments_view(const LedgerView& view);

}  // namespace leanos::projections
