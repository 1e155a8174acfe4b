#include "actors/queries.h"

#include "events/time.h"
#include "projections/views.h"

namespace leanos {

bool typed_query(const v1::QueryRequest& q) {
  switch (q.query_case()) {
    case v1::QueryRequest::kCanvas:
    case v1::QueryRequest::kGoal:
    case v1::QueryRequest::kMetrics:
    case v1::QueryRequest::kOpportunities:
    case v1::QueryRequest::kToday:
    case v1::QueryRequest::kPipeline:
    case v1::QueryRequest::kDeals: return true;
    default: return false;
  }
}

Result<AsOf> as_of_of(const v1::QueryRequest& q) {
  AsOf a;
  if (!q.as_of().empty()) {
    auto v = parse_time(q.as_of(), DateEdge::end_of_day);
    if (!v) return Status::invalid("--as-of: " + v.status().message());
    a.occurred = *v;
  }
  if (!q.known_at().empty()) {
    auto v = parse_time(q.known_at(), DateEdge::end_of_day);
    if (!v) return Status::invalid("--known-at: " + v.status().message());
    a.recorded = *v;
  }
  if (q.has_at_position()) a.position = q.at_position();
  return a;
}

Result<Micros> now_of(const v1::QueryRequest& q, Micros clock) {
  auto a = as_of_of(q);
  if (!a) return a.status();
  if (a->occurred) return *a->occurred;
  if (a->recorded) return *a->recorded;
  return clock;
}

namespace {

// A goal that is not there: not defined yet at the time asked, or not at all.
Status goal_not_found(const v1::QueryRequest& q) {
  const std::string& id = q.goal().goal_id();
  if (!q.as_of().empty() || !q.known_at().empty() || q.has_at_position()) {
    const std::string when = !q.as_of().empty()      ? "on " + q.as_of()
                             : !q.known_at().empty() ? "as known on " + q.known_at()
                                                     : "at position " + std::to_string(q.at_position());
    return Status::not_found("goal '" + id + "' was not defined yet " + when + "; leave out the date to see it as it stands");
  }
  return Status::not_found("goal '" + id + "' does not exist; `leanos goal define " + id + " ...` creates it");
}

// Queries of the core only (canvas, marketing, metrics of one dimension) need no finished deal.
bool needs_deals(const v1::QueryRequest& q) {
  switch (q.query_case()) {
    case v1::QueryRequest::kCanvas:
    case v1::QueryRequest::kOpportunities: return false;
    case v1::QueryRequest::kMetrics:
      return (!q.metrics().segment().empty() + !q.metrics().goal().empty() + !q.metrics().campaign().empty()) > 1;
    default: return true;
  }
}

}  // namespace

Result<v1::QueryReply> answer_query(store::EventStore& store, const v1::QueryRequest& q, Micros clock) {
  if (!typed_query(q)) return Status::invalid("this query has no typed view");
  auto as_of = as_of_of(q);
  if (!as_of) return as_of.status();
  const Micros now = *now_of(q, clock);
  projections::DealListFilter filter;
  if (q.has_deals()) {
    filter = {q.deals().stage(), q.deals().segment(), q.deals().status(), q.deals().goal()};
    if (auto s = projections::check(filter); !s) return s;
  }
  LedgerOptions options;
  options.need_deals = needs_deals(q);
  auto ledger = read_ledger(store, *as_of, options);
  if (!ledger) return ledger.status();
  const auto& v = ledger->view;
  v1::QueryReply reply;
  switch (q.query_case()) {
    case v1::QueryRequest::kCanvas: *reply.mutable_canvas() = projections::canvas_view(v); break;
    case v1::QueryRequest::kGoal: {
      auto it = v.goals().find(q.goal().goal_id());
      if (it == v.goals().end() || it->second.id().empty()) return goal_not_found(q);
      *reply.mutable_goal() = projections::goal_view(v, it->second, now);
      break;
    }
    case v1::QueryRequest::kMetrics:
      *reply.mutable_metrics() =
          projections::metrics_view(v, {q.metrics().segment(), q.metrics().goal(), q.metrics().campaign()});
      break;
    case v1::QueryRequest::kOpportunities: *reply.mutable_opportunities() = projections::opportunities_view(v); break;
    case v1::QueryRequest::kToday: *reply.mutable_today() = projections::today_view(v, now); break;
    case v1::QueryRequest::kPipeline: *reply.mutable_pipeline() = projections::pipeline_view(v, now, q.pipeline().segment()); break;
    case v1::QueryRequest::kDeals: *reply.mutable_deals() = projections::deal_list(v, now, filter); break;
    default: break;
  }
  return reply;
}

}  // namespace leanos
