#include "projections/goals.h"

#include <algorithm>

#include "events/rules.h"

namespace leanos::projections {

namespace {

// A corrected close is first taken back from its goal and subgoal (`old`: the close it
// replaces, as the deal held it), with the milestones and the target it alone reached then.
void uncount_won_deal(LedgerView& v, const v1::DealClosed& old, const std::string& corrected_id, std::int64_t at) {
  if (old.outcome() != v1::WON || old.goal_id().empty()) return;
  auto it = v.mutable_goals()->find(old.goal_id());
  if (it == v.mutable_goals()->end()) return;
  auto& goal = it->second;
  auto drop_one = [&](google::protobuf::RepeatedPtrField<std::string>* deals) {
    for (int i = deals->size() - 1; i >= 0; --i)
      if (deals->Get(i) == old.deal_id()) {
        deals->DeleteSubrange(i, 1);
        return;
      }
  };
  for (auto& sg : *goal.mutable_subgoals()) {
    if (sg.id() != old.subgoal_id()) continue;
    sg.set_current(sg.current() - goal_contribution(sg.metric(), old));
    drop_one(sg.mutable_deals());
    if (sg.current() < sg.target()) {
      sg.set_done(false);
      sg.set_done_at(0);
    }
  }
  goal.set_current(goal.current() - goal_contribution(goal.metric(), old));
  drop_one(goal.mutable_deals());
  auto* history = goal.mutable_history();
  for (int i = history->size() - 1; i >= 0; --i)
    if (history->Get(i).deal_id() == old.deal_id() && history->Get(i).at() == at) {
      history->DeleteSubrange(i, 1);
      break;
    }
  const std::int64_t span = goal.target() - goal.baseline();
  auto* milestones = goal.mutable_milestones();
  for (int i = milestones->size() - 1; i >= 0; --i)
    if (const auto& m = milestones->Get(i); m.reached_at() == at && !(span > 0 && (goal.current() - goal.baseline()) * 100 >= span * m.percent()))
      milestones->DeleteSubrange(i, 1);
  if (goal.met_by_event_id() == corrected_id) {
    goal.set_met(false);
    goal.set_met_at(0);
    goal.clear_met_by_event_id();
  }
}

// A won deal counts towards its goal and subgoal if they were defined by then; the target is
// met by the close that first reaches it, in business-time order.
void count_won_deal(LedgerView& v, const Envelope& e, std::int64_t at) {
  const auto& c = e.deal_closed();
  if (c.outcome() != v1::WON || c.goal_id().empty()) return;
  auto it = v.mutable_goals()->find(c.goal_id());
  if (it == v.mutable_goals()->end()) return;
  auto& goal = it->second;
  for (auto& sg : *goal.mutable_subgoals()) {
    if (sg.id() != c.subgoal_id()) continue;
    sg.set_current(sg.current() + goal_contribution(sg.metric(), c));
    sg.add_deals(c.deal_id());
    const bool done = sg.current() >= sg.target();
    if (done && !sg.done()) sg.set_done_at(at);
    sg.set_done(done);
  }
  goal.set_current(goal.current() + goal_contribution(goal.metric(), c));
  goal.add_deals(c.deal_id());
  auto* point = goal.add_history();
  point->set_at(at);
  point->set_value(goal.current());
  point->set_deal_id(c.deal_id());
  const std::int64_t span = goal.target() - goal.baseline();
  for (int pct : {25, 50, 75, 100}) {
    const bool reached = span > 0 && (goal.current() - goal.baseline()) * 100 >= span * pct;
    const bool known = std::any_of(goal.milestones().begin(), goal.milestones().end(),
                                   [&](const v1::Milestone& m) { return m.percent() == pct; });
    if (reached && !known) {
      auto* m = goal.add_milestones();
      m->set_percent(pct);
      m->set_reached_at(at);
      m->set_position(e.position());
    }
  }
  if (!goal.met() && goal.current() >= goal.target()) {
    goal.set_met(true);
    goal.set_met_at(at);
    goal.set_met_by_event_id(e.event_id());
  }
}

}  // namespace

void fold_goal(LedgerView& v, const Envelope& e, std::int64_t at, const v1::DealClosed* replaced) {
  switch (e.payload_case()) {
    case Envelope::kGoalDefined: {
      const auto& g = e.goal_defined();
      auto& view = (*v.mutable_goals())[g.goal_id()];
      view.set_id(g.goal_id());
      view.set_title(g.title());
      view.set_metric(g.metric());
      view.set_target(g.target());
      view.set_baseline(g.baseline());
      view.set_current(g.baseline());
      view.set_due(g.has_due() ? from_timestamp(g.due()) : 0);
      view.set_defined_at(at);
      break;
    }
    case Envelope::kSubgoalDefined: {
      const auto& s = e.subgoal_defined();
      auto& goal = (*v.mutable_goals())[s.goal_id()];
      auto* sg = goal.add_subgoals();
      sg->set_id(s.subgoal_id());
      sg->set_title(s.title());
      sg->set_metric(s.metric());
      sg->set_target(s.target());
      break;
    }
    case Envelope::kDealClosed:
      if (replaced) uncount_won_deal(v, *replaced, e.corrects_event_id(), at);
      count_won_deal(v, e, at);
      break;
    default: break;  // progress and "target met" are derived here, not read from derived records
  }
}

v1::DealClosed close_in_force(const LedgerView& v, const std::string& deal_id) {
  v1::DealClosed c;
  auto it = v.deals().find(deal_id);
  if (it == v.deals().end()) return c;
  const auto& d = it->second;
  c.set_deal_id(deal_id);
  c.set_outcome(d.outcome());
  c.set_arr(d.arr());
  c.set_mrr(d.mrr());
  c.set_one_off(d.one_off());
  c.set_goal_id(d.goal_id());
  c.set_subgoal_id(d.subgoal_id());
  return c;
}

}  // namespace leanos::projections
