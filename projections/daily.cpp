#include "projections/daily.h"

#include <algorithm>
#include <set>
#include <cmath>
#include <map>

#include "events/domain.h"
#include "events/thread.h"

namespace leanos::projections {

bool open_deal(const v1::DealView& d) {
  return d.lead_at() && d.verdict() != v1::REJECT && (d.outcome() == v1::OUTCOME_UNSPECIFIED || d.outcome() == v1::STALLED);
}

namespace {

bool deal_blocked(const v1::DealView& d) {
  return std::any_of(d.actions().begin(), d.actions().end(), [](const auto& a) { return a.second.status() == v1::ACTION_BLOCKED; });
}

std::string days_text(std::int64_t micros) {
  const double days = static_cast<double>(micros) / kMicrosPerDay;
  char buf[32];
  if (days < 2) std::snprintf(buf, sizeof buf, "%.0f h", static_cast<double>(micros) / kMicrosPerHour);
  else std::snprintf(buf, sizeof buf, "%.0f days", std::floor(days));
  return buf;
}

}  // namespace

GoalTrajectory trajectory(const v1::GoalState& g, std::int64_t now) {
  GoalTrajectory t;
  t.progress = g.target() ? static_cast<double>(g.current()) / static_cast<double>(g.target()) : 0;
  t.gap = std::max<std::int64_t>(0, g.target() - g.current());
  const double elapsed = std::max(1.0, static_cast<double>(now - g.defined_at()) / kMicrosPerDay);
  t.rate_per_day = static_cast<double>(g.current() - g.baseline()) / elapsed;
  if (g.due()) {
    t.days_remaining = static_cast<double>(g.due() - now) / kMicrosPerDay;
    t.projected = static_cast<double>(g.current()) + t.rate_per_day * std::max(0.0, *t.days_remaining);
  }
  if (g.met() || g.current() >= g.target()) {
    t.on_track = true;
    t.risk = v1::RISK_LOW;
    return t;
  }
  if (!t.projected) return t;  // no deadline: no trajectory to judge
  t.on_track = *t.projected >= static_cast<double>(g.target());
  if (t.on_track) t.risk = *t.days_remaining > deadline::kRiskMediumDays ? v1::RISK_LOW : v1::RISK_MEDIUM;
  else t.risk = *t.days_remaining <= deadline::kRiskCriticalDays ? v1::RISK_CRITICAL : v1::RISK_HIGH;
  return t;
}

v1::SubgoalPhase subgoal_status(const LedgerView& v, const v1::GoalState& goal, const v1::SubgoalView& sg) {
  if (sg.done()) return v1::SUBGOAL_COMPLETED;
  bool linked = false, blocked = false;
  for (const auto* entry : sorted(v.deals())) {
    const auto& [id, d] = *entry;
    if (d.goal_id() != goal.id() || d.subgoal_id() != sg.id() || !open_deal(d)) continue;
    linked = true;
    blocked = blocked || deal_blocked(d);
  }
  if (blocked) return v1::SUBGOAL_BLOCKED;
  return linked || sg.current() > 0 ? v1::SUBGOAL_IN_PROGRESS : v1::SUBGOAL_PENDING;
}

std::optional<std::string> overdue_stage(const v1::DealView& d, std::int64_t now) {
  if (!d.lead_at() || d.verdict() == v1::REJECT) return std::nullopt;
  if (d.outcome() != v1::OUTCOME_UNSPECIFIED && d.outcome() != v1::STALLED) {
    if (!d.learning_at() && now - d.outcome_at() > days(deadline::kLearningDays))
      return "learning (due " + std::to_string(deadline::kLearningDays) + " days after the outcome)";
    return std::nullopt;
  }
  if (!d.hypothesis_at()) {
    if (now - d.lead_at() > days(deadline::kHypothesisDays))
      return "hypothesis (due " + std::to_string(deadline::kHypothesisDays) + " days after input)";
    return std::nullopt;
  }
  if (!d.implication_at()) {
    if (now - d.hypothesis_at() > days(deadline::kImplicationDays))
      return "implication (due " + std::to_string(deadline::kImplicationDays) + " days after the hypothesis)";
    return std::nullopt;
  }
  if (!d.decision_at()) {
    if (now - d.implication_at() > days(deadline::kDecisionDays))
      return "decision (due " + std::to_string(deadline::kDecisionDays) + " days after the implication)";
    return std::nullopt;
  }
  if (d.verdict() == v1::QUALIFY && !d.first_action_at() && now - d.decision_at() > days(deadline::kFirstActionDays))
    return "first action (due " + std::to_string(deadline::kFirstActionDays) + " days after QUALIFY)";
  return std::nullopt;
}

bool stalled(const v1::DealView& d, std::int64_t now) {
  return open_deal(d) && d.verdict() != v1::DEFER && now - d.last_event_at() > days(deadline::kStallDays);
}

std::string next_action(const v1::DealView& d) {
  if (!d.hypothesis_at()) return "state the hypothesis";
  if (!d.implication_at()) return "assess the implication";
  if (!d.decision_at() || d.verdict() == v1::DEFER) return "decide";
  if (d.approval_required() && !d.approved()) return "approval";
  for (const char* a : kSalesActions) {
    auto it = d.actions().find(a);
    if (it == d.actions().end()) return std::string("start ") + a;
    if (it->second.status() != v1::ACTION_COMPLETED)
      return std::string(it->second.status() == v1::ACTION_BLOCKED ? "unblock " : "complete ") + a;
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
    if (!open_deal(d)) {
      if (auto stage = overdue_stage(d, now))
        q.overdue.push_back({v1::QUEUE_OVERDUE, id, name + ": " + *stage, d.outcome_at(), d.priority()});
      continue;
    }
    if (d.verdict() == v1::QUALIFY && d.impact() >= threshold && !d.approved())
      q.approvals.push_back({v1::QUEUE_APPROVAL, id, name + ": QUALIFY at impact " + std::to_string(d.impact()).substr(0, 4) +
                                                 " awaits approval (threshold " + std::to_string(threshold).substr(0, 4) + ")",
                             d.decision_at(), d.impact()});
    if (d.verdict() == v1::QUALIFY && d.impact() < threshold && now - d.decision_at() <= days(deadline::kAgentDecisionShownDays) && now >= d.decision_at())
      q.agent_decisions.push_back({v1::QUEUE_AGENT_DECISION, id, name + ": QUALIFY decided by " + d.decision_actor() +
                                                             " at impact " + std::to_string(d.impact()).substr(0, 4),
                                   d.decision_at(), d.impact()});
    for (const auto* action : sorted(d.actions())) {
      const auto& [type, a] = *action;
      if (a.human_required() && (a.status() == v1::ACTION_PLANNED || a.status() == v1::ACTION_IN_PROGRESS))
        q.human_actions.push_back({v1::QUEUE_HUMAN_ACTION, id, name + ": " + type + " " + word(a.status()), a.changed_at(), d.priority()});
      if (a.status() == v1::ACTION_BLOCKED)
        q.blocked.push_back({v1::QUEUE_BLOCKED, id, name + ": " + type + " blocked for " + days_text(now - a.changed_at()),
                             a.changed_at(), d.priority()});
    }
    if (auto stage = overdue_stage(d, now))
      q.overdue.push_back({v1::QUEUE_OVERDUE, id, name + ": " + *stage, d.stage_entered_at(), d.priority()});
    if (stalled(d, now))
      q.stalled.push_back({v1::QUEUE_STALLED, id, name + ": " + days_text(now - d.last_event_at()) + " in " + stage_name(d.stage()) +
                                              " with no event", d.last_event_at(), d.priority()});
  }
  // The input SLA: a lead recorded more than 24 h after it came in, open or finished since.
  for (const auto* entry : sorted(v.late_inputs())) {
    const auto& [id, l] = *entry;
    if (l.lead_at() > now || !late_input_shown(l, now)) continue;
    q.overdue.push_back({v1::QUEUE_OVERDUE, id,
                         l.name() + ": input recorded " + days_text(l.recorded_at() - l.lead_at()) +
                             " after the lead came in (due within " + std::to_string(deadline::kInputRecordedHours) + " h)",
                         l.lead_at(), l.priority()});
  }
  std::set<std::string> topics;  // a topic flagged twice (a learning recorded twice, before they were one) is one
  for (const auto& o : v.opportunities())
    if (!o.acted() && !o.withdrawn() && o.flagged_at() <= now && topics.insert(o.topic()).second)
      q.content.push_back({v1::QUEUE_CONTENT, o.topic(), o.kind() + ": " + o.topic(), o.flagged_at(), o.priority()});
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
    // Open deals are in play, so in the core; the won ones are counted in the aggregates.
    int open = 0;
    for (const auto& [did, d] : v.deals())  // a count: no order needed
      if (d.goal_id() == id && open_deal(d)) ++open;
    std::map<std::string, std::int64_t> won_by_segment;
    const std::string prefix = goal_segment_key(id, "");
    for (const auto& [key, a] : v.aggregates())  // a handful of keys
      if (key.starts_with(prefix) && a.won() && key.find('/', prefix.size()) == std::string::npos)  // not a campaign's too
        won_by_segment[key.substr(prefix.size())] = a.won();
    const double win = all.win_rate.value_or(0.5);
    double per_deal = 1;
    if (g.metric() == v1::MRR) per_deal = all.customers ? static_cast<double>(all.mrr) / all.customers : 0;
    if (g.metric() == v1::ARR) per_deal = all.avg_deal_size.value_or(0);
    const double gap = static_cast<double>(std::max<std::int64_t>(0, g.target() - g.current()));
    const double needed = per_deal > 0 && win > 0 ? std::ceil(gap / (per_deal * win)) : 0;
    if (needed > open) {
      std::string segment = "your best segment";
      std::int64_t best = -1;
      for (const auto& [s, n] : won_by_segment)
        if (n > best) best = n, segment = s;
      out.push_back({v1::RECOMMEND_PIPELINE_GAP, "open an outbound campaign for segment " + segment,
                     "goal " + id + " needs about " + std::to_string(static_cast<int>(needed)) +
                         " open deals at a win rate of " + std::to_string(static_cast<int>(win * 100)) + " %, has " +
                         std::to_string(open)});
    }
  }
  // Conversion gaps against the seed's targets.
  const std::pair<const char*, std::pair<std::optional<double>, const char*>> rates[] = {
      {"demo booking", {all.demo_booking_rate, "demo_booking_rate"}},
      {"pilot", {all.pilot_conversion, "pilot_conversion"}},
      {"close", {all.close_rate, "close_rate"}},
  };
  for (const auto& [stage, rt] : rates) {
    const auto& target = metric_target(rt.second);
    if (rt.first && !target.met(*rt.first))
      out.push_back({v1::RECOMMEND_CONVERSION_GAP, std::string("review stage ") + stage,
                     std::to_string(static_cast<int>(*rt.first * 100)) + " % against a target of " +
                         std::to_string(static_cast<int>(target.value * 100)) + " %"});
  }
  if (const auto& target = metric_target("lead_response_hours"); all.lead_response_hours && !target.met(*all.lead_response_hours))
    out.push_back({v1::RECOMMEND_RESPONSE_TIME, "answer new leads sooner",
                   "first action " + std::to_string(static_cast<int>(*all.lead_response_hours)) + " h after the lead (target " +
                       target.text() + " h)"});
  for (const auto* entry : sorted(v.deals()))
    if (const auto& [id, d] = *entry; d.lead_at() <= now && stalled(d, now))
      out.push_back({v1::RECOMMEND_STALLED_DEAL, "review stalled deal: " + (d.company().empty() ? id : d.company()),
                     days_text(now - d.last_event_at()) + " in " + stage_name(d.stage()) + " with no event"});
  return out;
}

}  // namespace leanos::projections
