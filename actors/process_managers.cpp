#include "actors/process_managers.h"

#include <map>

#include <algorithm>
#include <limits>

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

void canvas_on_learning(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto& l = cause.learning_recorded();
  auto it = v.assumptions().find(l.assumption_id());
  if (it == v.assumptions().end()) return;
  const int previous = it->second.confidence();
  int next = previous;
  v1::AssumptionStatus status = v1::ASSUMPTION_STATUS_UNSPECIFIED;
  switch (l.result()) {
    case v1::VALIDATED:
      next = l.has_confidence() ? l.confidence() : std::min(100, previous + 10);
      status = v1::ASSUMPTION_VALIDATED;
      break;
    case v1::PARTIAL:
      next = l.has_confidence() ? l.confidence() : std::max(0, previous - 10);
      status = v1::CHALLENGED;
      break;
    case v1::INVALIDATED:
      next = 0;
      status = v1::ASSUMPTION_INVALIDATED;
      break;
    default: return;
  }
  v1::AssumptionConfidenceChanged c;
  c.set_assumption_id(l.assumption_id());
  c.set_previous(previous);
  c.set_confidence(next);
  c.set_status(status);
  c.set_deal_id(l.deal_id());
  c.set_result(l.result());
  c.set_evidence(l.evidence());
  out.push_back(make(kCanvasStream, c, cause, "canvas:confidence", "canvas"));
}

void canvas_on_won(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto m = projections::pipeline_metrics(v);
  const std::pair<const char*, std::optional<double>> metrics[] = {
      {"arr", static_cast<double>(m.arr)},           {"mrr", static_cast<double>(m.mrr)},
      {"customers", static_cast<double>(m.customers)}, {"avg_deal_size", m.avg_deal_size},
      {"avg_cycle_days", m.avg_cycle_days},
  };
  for (const auto& [name, value] : metrics) {
    if (!value) continue;
    v1::CanvasMetricRecorded r;
    r.set_metric(name);
    r.set_value(static_cast<std::int64_t>(*value + 0.5));
    r.set_deal_id(cause.deal_closed().deal_id());
    out.push_back(make(kCanvasStream, r, cause, std::string("canvas:metric:") + name, "canvas"));
  }
}

std::int64_t contribution(v1::GoalMetric metric, const v1::DealClosed& c) {
  switch (metric) {
    case v1::MRR: return c.mrr();
    case v1::ARR: return c.arr();
    case v1::CUSTOMERS: return 1;
    default: return 0;
  }
}

void goal_on_won(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto& c = cause.deal_closed();
  auto it = v.goals().find(c.goal_id());
  if (c.goal_id().empty() || it == v.goals().end()) return;
  const auto& goal = it->second;
  const std::string stream = goal_stream(goal.id());
  for (const auto& sg : goal.subgoals()) {
    if (sg.id() != c.subgoal_id()) continue;
    v1::SubgoalProgressed p;
    p.set_goal_id(goal.id());
    p.set_subgoal_id(sg.id());
    p.set_previous(sg.current());
    p.set_current(sg.current() + contribution(sg.metric(), c));
    p.set_done(p.current() >= sg.target());
    p.set_deal_id(c.deal_id());
    out.push_back(make(stream, p, cause, "goal:subgoal", "goal:" + goal.id()));
  }
  v1::GoalProgressed p;
  p.set_goal_id(goal.id());
  p.set_previous(goal.current());
  p.set_current(goal.current() + contribution(goal.metric(), c));
  p.set_deal_id(c.deal_id());
  out.push_back(make(stream, p, cause, "goal:progress", "goal:" + goal.id()));
  if (!goal.met() && p.current() >= goal.target()) {
    v1::GoalTargetMet m;
    m.set_goal_id(goal.id());
    m.set_value(p.current());
    m.set_target(goal.target());
    out.push_back(make(stream, m, cause, "goal:target-met", "goal:" + goal.id()));
  }
}

void marketing_on_learning(const v1::LedgerView& v, const Envelope& cause, std::vector<Derived>& out) {
  const auto& l = cause.learning_recorded();
  if (l.result() != v1::VALIDATED) return;
  auto deal = v.deals().find(l.deal_id());
  if (deal == v.deals().end()) return;
  const auto& d = deal->second;
  v1::ContentOpportunityFlagged f;
  f.set_topic(d.company() + " success case study");
  f.set_priority(d.priority());
  f.set_kind("case-study");
  f.add_caused_by(d.deal_id());
  f.set_assumption_id(l.assumption_id());
  f.set_segment(d.segment());
  out.push_back(make(kMarketingStream, f, cause, "marketing:case-study", "marketing"));

  // A pattern: enough won deals of this segment validated the same assumption.
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

Result<std::size_t> follow_log(const store::EventStore& store, v1::LedgerView& view, const AppendDerived& append) {
  std::size_t handed = 0;
  for (;;) {
    auto page = store.read_all(view.position() + 1, 1024);
    if (!page) return page.status();
    if (page->empty()) return handed;
    for (const auto& e : *page) {
      projections::apply(view, e);
      std::map<std::string, std::vector<Derived>> by_stream;
      for (auto& d : derive(view, e)) {
        auto known = store.find_event_id(d.event.event_id());
        if (!known) return known.status();
        if (!known->has_value()) by_stream[d.stream].push_back(std::move(d));  // else folded in its place
      }
      for (auto& [stream, derived] : by_stream) {
        handed += derived.size();
        if (auto s = append(stream, std::move(derived)); !s) return s;
      }
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
