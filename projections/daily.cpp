#include "projections/daily.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "events/domain.h"

namespace leanos::projections {

bool open_deal(const v1::DealView& d) {
  return d.lead_at() && d.verdict() != v1::REJECT && (d.outcome() == v1::OUTCOME_UNSPECIFIED || d.outcome() == v1::STALLED);
}

namespace {

bool deal_blocked(const v1::DealView& d) {
  return std::any_of(d.actions().begin(), d.actions().end(), [](const auto& a) { return a.second.status() == "blocked"; });
}

std::string days_text(std::int64_t micros) {
  const double days = static_cast<double>(micros) / kDay;
  char buf[32];
  if (days < 2) std::snprintf(buf, sizeof buf, "%.0f h", static_cast<double>(micros) / kHour);
  else std::snprintf(buf, sizeof buf, "%.0f days", std::floor(days));
  return buf;
}

}  // namespace

const char* risk_name(Risk r) {
  switch (r) {
    case Risk::low: return "Low";
    case Risk::medium: return "Medium";
    case Risk::high: return "High";
    case Risk::critical: return "Critical";
    default: return "Unknown";
  }
}

GoalTrajectory trajectory(const v1::GoalState& g, std::int64_t now) {
  GoalTrajectory t;
  t.progress = g.target() ? static_cast<double>(g.current()) / static_cast<double>(g.target()) : 0;
  t.gap = std::max<std::int64_t>(0, g.target() - g.current());
  const double elapsed = std::max(1.0, static_cast<double>(now - g.defined_at()) / kDay);
  t.rate_per_day = static_cast<double>(g.current() - g.baseline()) / elapsed;
  if (g.due()) {
    t.days_remaining = static_cast<double>(g.due() - now) / kDay;
    t.projected = static_cast<double>(g.current()) + t.rate_per_day * std::max(0.0, *t.days_remaining);
  }
  if (g.met() || g.current() >= g.target()) {
    t.on_track = true;
    t.risk = Risk::low;
    return t;
  }
  if (!t.projected) return t;  // no deadline: no trajectory to judge
  t.on_track = *t.projected >= static_cast<double>(g.target());
  if (t.on_track) t.risk = *t.days_remaining > 30 ? Risk::low : Risk::medium;
  else t.risk = *t.days_remaining <= 14 ? Risk::critical : Risk::high;
  return t;
}

std::string subgoal_status(const LedgerView& v, const v1::GoalState& goal, const v1::SubgoalView& sg) {
  if (sg.done()) return "completed";
  bool linked = false, blocked = false;
  for (const auto* entry : sorted(v.deals())) {
    const auto& [id, d] = *entry;
    if (d.goal_id() != goal.id() || d.subgoal_id() != sg.id() || !open_deal(d)) continue;
    linked = true;
    blocked = blocked || deal_blocked(d);
  }
  if (blocked) return "blocked";
  return linked || sg.current() > 0 ? "in_progress" : "pending";
}

std::optional<std::string> overdue_stage(const v1::DealView& d, std::int64_t now) {
  if (!d.lead_at() || d.verdict() == v1::REJECT) return std::nullopt;
  if (d.outcome() != v1::OUTCOME_UNSPECIFIED && d.outcome() != v1::STALLED) {
    if (!d.learning_at() && now - d.outcome_at() > 7 * kDay) return "learning (due 7 days after the outcome)";
    return std::nullopt;
  }
  if (!d.hypothesis_at()) {
    if (now - d.lead_at() > 2 * kDay) return "hypothesis (due 2 days after input)";
    return std::nullopt;
  }
  if (!d.implication_at()) {
    if (now - d.hypothesis_at() > 3 * kDay) return "implication (due 3 days after the hypothesis)";
    return std::nullopt;
  }
  if (!d.decision_at()) {
    if (now - d.implication_at() > 7 * kDay) return "decision (due 7 days after the implication)";
    return std::nullopt;
  }
  if (d.verdict() == v1::QUALIFY && !d.first_action_at() && now - d.decision_at() > 2 * kDay)
    return "first action (due 2 days after QUALIFY)";
  return std::nullopt;
}

bool stalled(const v1::DealView& d, std::int64_t now) {
  return open_deal(d) && d.verdict() != v1::DEFER && now - d.last_event_at() > 7 * kDay;
}

std::string next_action(const v1::DealView& d) {
  if (!d.hypothesis_at()) return "state the hypothesis";
  if (!d.implication_at()) return "assess the implication";
  if (!d.decision_at() || d.verdict() == v1::DEFER) return "decide";
  if (d.approval_required() && !d.approved()) return "approval";
  for (const char* a : kSalesActions) {
    auto it = d.actions().find(a);
    if (it == d.actions().end()) return std::string("start ") + a;
    if (it->second.status() != "completed") return std::string(it->second.status() == "blocked" ? "unblock " : "complete ") + a;
  }
  return "record the outcome";
}

WorkQueue work_queue(const LedgerView& v, std::int64_t now) {
  WorkQueue q;
  const double threshold = v.approval_threshold();
  for (const auto* entry : sorted(v.deals())) {
    const auto& [id, d] = *entry;
    if (!d.lead_at() || d.lead_at() > now) continue;
    const std::string name = d.company().empty() ? id : d.company();
    // The input SLA: a lead recorded more than 24 h after it came in.
    if (d.lead_recorded_at() - d.lead_at() > kDay && now - d.lead_at() < 7 * kDay)
      q.overdue.push_back({"overdue", id, name + ": input recorded " + days_text(d.lead_recorded_at() - d.lead_at()) +
                                              " after the lead came in (due within 24 h)", d.lead_at(), d.priority()});
    if (!open_deal(d)) {
      if (auto stage = overdue_stage(d, now))
        q.overdue.push_back({"overdue", id, name + ": " + *stage, d.outcome_at(), d.priority()});
      continue;
    }
    if (d.verdict() == v1::QUALIFY && d.impact() >= threshold && !d.approved())
      q.approvals.push_back({"approval", id, name + ": QUALIFY at impact " + std::to_string(d.impact()).substr(0, 4) +
                                                 " awaits approval (threshold " + std::to_string(threshold).substr(0, 4) + ")",
                             d.decision_at(), d.impact()});
    if (d.verdict() == v1::QUALIFY && d.impact() < threshold && now - d.decision_at() <= kDay && now >= d.decision_at())
      q.agent_decisions.push_back({"agent-decision", id, name + ": QUALIFY decided by " + d.decision_actor() +
                                                             " at impact " + std::to_string(d.impact()).substr(0, 4),
                                   d.decision_at(), d.impact()});
    for (const auto* action : sorted(d.actions())) {
      const auto& [type, a] = *action;
      if (a.human_required() && (a.status() == "planned" || a.status() == "in_progress"))
        q.human_actions.push_back({"human-action", id, name + ": " + type + " " + a.status(), a.changed_at(), d.priority()});
      if (a.status() == "blocked")
        q.blocked.push_back({"blocked", id, name + ": " + type + " blocked for " + days_text(now - a.changed_at()),
                             a.changed_at(), d.priority()});
    }
    if (auto stage = overdue_stage(d, now))
      q.overdue.push_back({"overdue", id, name + ": " + *stage, d.stage_entered_at(), d.priority()});
    if (stalled(d, now))
      q.stalled.push_back({"stalled", id, name + ": " + days_text(now - d.last_event_at()) + " in " + d.stage() +
                                              " with no event", d.last_event_at(), d.priority()});
  }
  for (const auto& o : v.opportunities())
    if (!o.acted() && o.flagged_at() <= now)
      q.content.push_back({"content", o.topic(), o.kind() + ": " + o.topic(), o.flagged_at(), o.priority()});
  auto order = [](std::vector<QueueItem>& items) {
    std::sort(items.begin(), items.end(), [](const QueueItem& a, const QueueItem& b) {
      if (a.priority != b.priority) return a.priority > b.priority;
      if (a.since != b.since) return a.since < b.since;
      if (a.deal_id != b.deal_id) return a.deal_id < b.deal_id;
      return a.what < b.what;
    });
  };
  for (auto* items : {&q.approvals, &q.human_actions, &q.blocked, &q.overdue, &q.stalled, &q.content, &q.agent_decisions})
    order(*items);
  return q;
}

std::vector<Recommendation> recommendations(const LedgerView& v, std::int64_t now) {
  std::vector<Recommendation> out;
  const auto all = pipeline_metrics(v);
  // Pipeline gap: enough open deals to close the goal's gap at the current win rate?
  for (const auto* goal_entry : sorted(v.goals())) {
    const auto& [id, g] = *goal_entry;
    if (g.met() || g.id().empty()) continue;
    int open = 0;
    std::map<std::string, int> won_by_segment;
    for (const auto* deal_entry : sorted(v.deals())) {
      const auto& [did, d] = *deal_entry;
      if (d.goal_id() != id) continue;
      if (open_deal(d)) ++open;
      if (d.outcome() == v1::WON) ++won_by_segment[d.segment()];
    }
    const double win = all.win_rate.value_or(0.5);
    double per_deal = 1;
    if (g.metric() == v1::MRR) per_deal = all.customers ? static_cast<double>(all.mrr) / all.customers : 0;
    if (g.metric() == v1::ARR) per_deal = all.avg_deal_size.value_or(0);
    const double gap = static_cast<double>(std::max<std::int64_t>(0, g.target() - g.current()));
    const double needed = per_deal > 0 && win > 0 ? std::ceil(gap / (per_deal * win)) : 0;
    if (needed > open) {
      std::string segment = "your best segment";
      int best = -1;
      for (const auto& [s, n] : won_by_segment)
        if (n > best) best = n, segment = s;
      out.push_back({"pipeline-gap", "open an outbound campaign for segment " + segment,
                     "goal " + id + " needs about " + std::to_string(static_cast<int>(needed)) +
                         " open deals at a win rate of " + std::to_string(static_cast<int>(win * 100)) + " %, has " +
                         std::to_string(open)});
    }
  }
  // Conversion gaps against the seed's targets.
  const std::pair<const char*, std::pair<std::optional<double>, double>> rates[] = {
      {"demo booking", {all.demo_booking_rate, 0.4}},
      {"pilot", {all.pilot_conversion, 0.6}},
      {"close", {all.close_rate, 0.5}},
  };
  for (const auto& [stage, rt] : rates)
    if (rt.first && *rt.first < rt.second)
      out.push_back({"conversion-gap", std::string("review stage ") + stage,
                     std::to_string(static_cast<int>(*rt.first * 100)) + " % against a target of " +
                         std::to_string(static_cast<int>(rt.second * 100)) + " %"});
  if (all.lead_response_hours && *all.lead_response_hours >= 24)
    out.push_back({"conversion-gap", "review stage lead response",
                   "first action " + std::to_string(static_cast<int>(*all.lead_response_hours)) + " h after the lead (target < 24 h)"});
  for (const auto* entry : sorted(v.deals()))
    if (const auto& [id, d] = *entry; d.lead_at() <= now && stalled(d, now))
      out.push_back({"stalled-deal", "review stalled deal: " + (d.company().empty() ? id : d.company()),
                     days_text(now - d.last_event_at()) + " in " + d.stage() + " with no event"});
  return out;
}

}  // namespace leanos::projections
