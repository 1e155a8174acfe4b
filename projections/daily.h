// The daily routine: goal trajectory and risk, the work queue, recommendations.
//
// Pure functions of a LedgerView and `now` (the caller's clock, or the --as-of date). Rules
// from docs/domain.md: SLAs, stalls, risk levels, approval threshold, gap -> action mapping.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "projections/ledger.h"
#include "projections/metrics.h"

namespace leanos::projections {


struct GoalTrajectory {
  double progress = 0;           // current / target
  std::int64_t gap = 0;          // target - current (0 when met)
  double rate_per_day = 0;       // (current - baseline) / days elapsed
  std::optional<double> days_remaining;
  std::optional<double> projected;  // current + rate * days remaining
  bool on_track = false;
  v1::GoalRisk risk = v1::RISK_UNKNOWN;
};
// Low = on track, > 30 days left; Medium = on track, <= 30; High = not on track;
// Critical = not on track, <= 14 days left (deadline::kRisk*). A met goal is on track and Low.
GoalTrajectory trajectory(const v1::GoalState& goal, std::int64_t now);

// From the threads linked to the subgoal.
v1::SubgoalPhase subgoal_status(const LedgerView& view, const v1::GoalState& goal, const v1::SubgoalView& subgoal);

struct QueueItem {
  v1::QueueItemKind kind = v1::QUEUE_ITEM_KIND_UNSPECIFIED;
  std::string deal_id;  // or the topic for content
  std::string what;     // one line for a person
  std::int64_t since = 0;
  double priority = 0;
};

struct WorkQueue {
  std::vector<QueueItem> approvals, human_actions, blocked, overdue, stalled, content, agent_decisions;
};

// Decisions awaiting approval use the workspace's threshold in force now (view.approval_threshold).
WorkQueue work_queue(const LedgerView& view, std::int64_t now);

// The stage a deal is overdue on, per LeanOS's SLAs, or nullopt. Strictly past the limit.
std::optional<std::string> overdue_stage(const v1::DealView& deal, std::int64_t now);
// A lead came in, it was not rejected, and it has no outcome but a stall.
bool open_deal(const v1::DealView& deal);
// More than deadline::kStallDays with no event, on an open deal.
bool stalled(const v1::DealView& deal, std::int64_t now);
// What the deal's thread needs next: "state the hypothesis", ..., "start sales:demo",
// "complete sales:pilot", "approval", "record the outcome".
std::string next_action(const v1::DealView& deal);

struct Recommendation {
  v1::RecommendationRule rule = v1::RECOMMENDATION_RULE_UNSPECIFIED;
  std::string action;  // "open an outbound campaign for segment enterprise"
  std::string why;
};
std::vector<Recommendation> recommendations(const LedgerView& view, std::int64_t now);

}  // namespace leanos::projections
