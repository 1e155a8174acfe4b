#include "actors/process_managers.h"

#include <map>

#include <algorithm>
#include <limits>

#include <google/protobuf/util/message_differencer.h>

#include "actors/ledger_reader.h"
#include "events/ids.h"
#include "projections/metrics.h"

namespace leanos {

namespace {

constexpr int kPatternThreshold = 3;

Derived make(const std::string& stream, const google::protobuf::Message& payload, const Envelope& cause,
             const std::string& rule, const std::string& actor) {
  Envelope e = make_event(payload, from_timestamp(cause.occurred_at()));
  e.set_event_id(derived_event_id(cause.event_id(), rule));
  e.set_causation_id(cause.event_id());
  e.set_correlation_id(cause.correlation_id().empty() ? cause.stream() : cause.correlation_id());
  e.set_actor(actor);
  return {stream, std::move(e)};
}

// What the folds computed for a cause, recorded: `after` is the business-time state with the
// cause folded in, so a derived event reports the values the rules give at the cause's date.
void canvas_on_learning(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto& l = cause.learning_recorded();
  auto it = v.assumptions().find(l.assumption_id());
  const std::string id = derived_event_id(cause.event_id(), kConfidenceRule);
  if (it == v.assumptions().end() || it->second.last_change().event_id() != id) return;  // no change
  const auto& change = it->second.last_change();
  v1::AssumptionConfidenceChanged c;
  c.set_assumption_id(l.assumption_id());
  c.set_previous(change.previous());
  c.set_confidence(change.confidence());
  c.set_status(change.status());
  c.set_deal_id(l.deal_id());
  c.set_result(l.result());  // not the evidence: it stays in the learning, sealed under the deal's subject
  out.push_back(make(kCanvasStream, c, cause, kConfidenceRule, "canvas"));
}

void canvas_on_won(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  for (const auto& [name, value] : projections::canvas_metrics(projections::pipeline_metrics(v))) {
    v1::CanvasMetricRecorded r;
    r.set_metric(name);
    r.set_value(value);
    r.set_deal_id(cause.deal_closed().deal_id());
    out.push_back(make(kCanvasStream, r, cause, kCanvasMetricRule + name, "canvas"));
  }
}

void goal_on_won(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto& c = cause.deal_closed();
  auto it = v.goals().find(c.goal_id());
  if (c.goal_id().empty() || it == v.goals().end()) return;  // no goal then: nothing counted
  const auto& goal = it->second;
  const std::string stream = goal_stream(goal.id());
  for (const auto& sg : goal.subgoals()) {
    if (sg.id() != c.subgoal_id()) continue;
    v1::SubgoalProgressed p;
    p.set_goal_id(goal.id());
    p.set_subgoal_id(sg.id());
    p.set_previous(sg.current() - goal_contribution(sg.metric(), c));
    p.set_current(sg.current());
    p.set_done(sg.done());
    p.set_deal_id(c.deal_id());
    out.push_back(make(stream, p, cause, kSubgoalProgressRule, "goal:" + goal.id()));
  }
  v1::GoalProgressed p;
  p.set_goal_id(goal.id());
  p.set_previous(goal.current() - goal_contribution(goal.metric(), c));
  p.set_current(goal.current());
  p.set_deal_id(c.deal_id());
  out.push_back(make(stream, p, cause, kGoalProgressRule, "goal:" + goal.id()));
  if (goal.met_by_event_id() == cause.event_id()) {
    v1::GoalTargetMet m;
    m.set_goal_id(goal.id());
    m.set_value(goal.current());
    m.set_target(goal.target());
    out.push_back(make(stream, m, cause, kTargetMetRule, "goal:" + goal.id()));
  }
}

void marketing_on_learning(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto& l = cause.learning_recorded();
  if (l.result() != v1::VALIDATED) return;
  auto deal = v.deals().find(l.deal_id());
  if (deal == v.deals().end()) return;
  const auto& d = deal->second;
  // One case study per deal and assumption: a corrected learning raises no second one.
  const bool flagged_before = std::any_of(v.opportunities().begin(), v.opportunities().end(), [&](const v1::OpportunityView& o) {
    return projections::case_study_of(o, d.deal_id(), l.assumption_id());
  });
  if (flagged_before) return;
  v1::ContentOpportunityFlagged f;
  f.set_topic(d.company() + " success case study");
  f.set_priority(d.priority());
  f.set_kind("case-study");
  f.add_caused_by(d.deal_id());
  f.set_assumption_id(l.assumption_id());
  f.set_segment(d.segment());
  out.push_back(make(kMarketingStream, f, cause, "marketing:case-study", "marketing"));

  // A pattern: enough won deals of this segment validated the same assumption (a deal whose
  // segment is unknown is of no segment's pattern).
  if (d.segment().empty()) return;
  std::vector<std::string> deals;
  double priority = 0;
  for (const auto* entry : projections::sorted(v.deals()))
    if (const auto& [id, other] = *entry; other.segment() == d.segment() && other.outcome() == v1::WON && other.validated_hypothesis() &&
        other.assumption_id() == l.assumption_id()) {
      deals.push_back(id);
      priority = std::max(priority, other.priority());
    }
  const bool flagged = std::any_of(v.opportunities().begin(), v.opportunities().end(), [&](const v1::OpportunityView& o) {
    return o.kind() == "pattern" && o.segment() == d.segment() && o.assumption_id() == l.assumption_id();
  });
  if (static_cast<int>(deals.size()) < kPatternThreshold || flagged) return;
  std::sort(deals.begin(), deals.end());  // map order is unspecified: keep derived content deterministic
  auto a = v.assumptions().find(l.assumption_id());
  v1::ContentOpportunityFlagged p;
  p.set_topic("Pattern: " + std::to_string(deals.size()) + " " + d.segment() + " customers closed, all validated " +
              l.assumption_id() + (a == v.assumptions().end() ? "" : " (" + a->second.statement() + ")") +
              ": case study + implementation guide");
  p.set_priority(priority);
  p.set_kind("pattern");
  for (const auto& id : deals) p.add_caused_by(id);
  p.set_assumption_id(l.assumption_id());
  p.set_segment(d.segment());
  out.push_back(make(kMarketingStream, p, cause, "marketing:pattern", "marketing"));
}

}  // namespace

std::vector<Derived> derive(const v1::LedgerView& after, const Envelope& cause) {
  std::vector<Derived> out;
  switch (cause.payload_case()) {
    case Envelope::kLearningRecorded:
      canvas_on_learning(after, cause, out);
      marketing_on_learning(after, cause, out);
      break;
    case Envelope::kDealClosed:
      if (cause.deal_closed().outcome() == v1::WON) {
        canvas_on_won(after, cause, out);
        goal_on_won(after, cause, out);
      }
      break;
    default: break;
  }
  return out;
}

namespace {

// Whether a fact can change what derive() gives for another cause: the derived values read
// the assumptions (registered, revised, moved by learnings), the goals (defined, counted by won
// closes) and the won deals' aggregates (set by the close, counted only for a won deal). Any
// other fact of a deal (its lead, stages, actions) changes its own deal before its close, which
// is recorded after it: derived at its place in the log, the close already sees it. Such a fact
// derives nothing itself either (derive() answers learnings and closes), so when one arrives
// backdated there is nothing to derive again.
bool can_change_derivations(const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kLearningRecorded:
    case Envelope::kDealClosed:
    case Envelope::kAssumptionRegistered:
    case Envelope::kAssumptionRevised:
    case Envelope::kGoalDefined:
    case Envelope::kSubgoalDefined: return true;
    default: return false;
  }
}

// A restatement of `now` (what the rules derive from its cause today), caused by `late`.
Derived restatement(const Derived& now, const Envelope& late, bool withdrawn) {
  v1::DerivationRestated r;
  r.set_restated_event_id(now.event.event_id());
  r.set_withdrawn(withdrawn);
  if (!withdrawn) switch (now.event.payload_case()) {
      case Envelope::kAssumptionConfidenceChanged: *r.mutable_confidence() = now.event.assumption_confidence_changed(); break;
      case Envelope::kGoalProgressed: *r.mutable_goal() = now.event.goal_progressed(); break;
      case Envelope::kSubgoalProgressed: *r.mutable_subgoal() = now.event.subgoal_progressed(); break;
      case Envelope::kGoalTargetMet: *r.mutable_target_met() = now.event.goal_target_met(); break;
      case Envelope::kCanvasMetricRecorded: *r.mutable_metric() = now.event.canvas_metric_recorded(); break;
      default: break;
    }
  Envelope e = make_event(r, from_timestamp(now.event.occurred_at()));  // where it stands in business time
  e.set_event_id(derived_event_id(late.event_id(), "restate:" + now.event.event_id()));
  e.set_causation_id(late.event_id());
  e.set_correlation_id(now.event.correlation_id());
  e.set_actor(now.event.actor());
  return {now.stream, std::move(e)};
}

// Restated when they change: the values. Content opportunities are flags raised once, not
// values, and stay as flagged.
bool restatable(const Derived& d) { return is_derived_record(d.event); }

// What the rules derive for a cause without the late fact (`was`) and with it (`now`): a
// restatement for each derivation whose values changed, that follows now and did not (its
// restated_event_id may then name no recorded event), or that no longer follows (withdrawn).
// Decided from the facts alone, never from what the store holds, so a replay decides the same.
void compare(const std::vector<Derived>& was, const std::vector<Derived>& now, const Envelope& late, std::vector<Derived>& out) {
  auto find = [](const std::vector<Derived>& in, const std::string& id) {
    return std::find_if(in.begin(), in.end(), [&](const Derived& d) { return d.event.event_id() == id; });
  };
  for (const auto& d : now) {
    if (!restatable(d)) continue;
    auto before = find(was, d.event.event_id());
    if (before == was.end() || !google::protobuf::util::MessageDifferencer::Equals(*payload_of(before->event), *payload_of(d.event)))
      out.push_back(restatement(d, late, false));
  }
  for (const auto& w : was)
    if (restatable(w) && find(now, w.event.event_id()) == now.end()) out.push_back(restatement(w, late, true));
}

}  // namespace

Result<std::vector<Derived>> derive_late(store::EventStore& store, const Envelope& late, v1::LedgerView& view) {
  const std::uint64_t q = late.position();
  const Micros at = from_timestamp(late.occurred_at());
  LedgerOptions quiet;
  quiet.write_snapshots = false;
  // The business timeline up to the late fact: recorded before it, occurred by its date.
  auto before = read_ledger(store, AsOf{.occurred = at, .position = q - 1}, quiet);
  if (!before) return before.status();
  v1::LedgerView with = before->view;
  v1::LedgerView without = std::move(before->view);
  projections::apply(with, late);
  std::vector<Derived> out = derive(with, late);
  // Everything recorded before it that occurred after it: derived again, without and with it.
  auto s = scan_business(store, 0, q - 1, at, std::numeric_limits<Micros>::max(), [&](const Envelope& x) {
    projections::apply(without, x);
    projections::apply(with, x);
    if (x.payload_case() == Envelope::kLearningRecorded || x.payload_case() == Envelope::kDealClosed)
      compare(derive(without, x), derive(with, x), late, out);
    return true;
  });
  if (!s) return s;
  view = std::move(with);  // the whole log up to the late fact, in business-time order
  return out;
}

Result<std::size_t> follow_log(store::EventStore& store, v1::LedgerView& view, const AppendDerived& append) {
  std::size_t handed = 0;
  // Hands over what the store does not hold yet, grouped by stream.
  auto hand_over = [&](std::vector<Derived> derived) -> Status {
    std::map<std::string, std::vector<Derived>> by_stream;
    for (auto& d : derived) {
      auto known = store.find_event_id(d.event.event_id());
      if (!known) return known.status();
      if (!known->has_value()) by_stream[d.stream].push_back(std::move(d));  // else folded in its place
    }
    for (auto& [stream, events] : by_stream) {
      handed += events.size();
      if (auto s = append(stream, std::move(events)); !s) return s;
    }
    return Status::success();
  };
  for (;;) {
    auto page = store.read_all(view.position() + 1, 1024);
    if (!page) return page.status();
    if (page->empty()) return handed;
    for (const auto& e : *page) {
      if (e.position() <= view.position()) continue;
      // In business-time order already (or a record the folds do not read): fold on.
      // A backdated fact that cannot change a derivation is folded on too: the view's
      // derived values stay those of the business-time fold.
      if (from_timestamp(e.occurred_at()) >= view.max_occurred_at() || is_derived_record(e) ||
          e.has_content_opportunity_flagged() || !can_change_derivations(e)) {
        projections::apply(view, e);
        if (auto s = hand_over(derive(view, e)); !s) return s;
        continue;
      }
      // A backdated fact: derived at its own date, and what it changes after it restated.
      auto derived = derive_late(store, e, view);
      if (!derived) return derived.status();
      if (auto s = hand_over(std::move(*derived)); !s) return s;
    }
  }
}

AppendDerived append_to(store::EventStore& store) {
  return [&store](const std::string& stream, std::vector<Derived> derived) -> Status {
    std::vector<Envelope> events;
    for (auto& d : derived) events.push_back(std::move(d.event));
    auto r = store.append(stream, store::ExpectedVersion::any(), std::move(events));
    return r ? Status::success() : r.status();
  };
}

Result<std::size_t> catch_up_process_managers(store::EventStore& store) {
  v1::LedgerView view = projections::empty_ledger();
  return follow_log(store, view, append_to(store));
}

}  // namespace leanos
