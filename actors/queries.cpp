#include "actors/queries.h"

#include "projections/scenarios.h"

#include "events/rules.h"

#include "events/text.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "actors/commands.h"
#include "actors/files.h"
#include "events/ids.h"
#include "events/time.h"
#include "projections/views.h"

namespace leanos {

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

Micros now_of(const AsOf& a, Micros clock) {
  if (a.occurred) return *a.occurred;
  if (a.recorded) return *a.recorded;
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
  return Status::rule(Code::not_found, rule::kUnknownGoal, "goal '" + id + "' does not exist", "define it first (GoalDefined " + id + ")",
                      {{"goal_id", id}});
}

constexpr auto kAll = std::numeric_limits<std::size_t>::max();

// An assumption's confidence in the ledger folded as `as_of` says (nullopt: not registered).
Result<std::optional<int>> confidence_in(store::EventStore& store, const std::string& id, const AsOf& as_of) {
  LedgerOptions core;
  core.need_deals = false;
  core.write_snapshots = false;
  auto l = read_ledger(store, as_of, core);
  if (!l) return l.status();
  auto it = l->view.assumptions().find(id);
  if (it == l->view.assumptions().end()) return std::optional<int>();
  return std::optional<int>(it->second.confidence());
}

}  // namespace

std::string closest_deals(const store::EventStore& store, const std::string& id) {
  const std::string prefix = deal_stream("");
  auto names = store.stream_names(prefix, 200000);
  if (!names) return "";
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& name : *names) {
    const std::string other = name.substr(prefix.size());
    if (const auto d = edit_distance(id, other); d <= std::max<std::size_t>(2, id.size() / 4)) ranked.emplace_back(d, other);
  }
  if (ranked.empty()) return "";
  std::sort(ranked.begin(), ranked.end());
  std::string out = "; did you mean ";
  for (std::size_t k = 0; k < ranked.size() && k < 3; ++k)
    out += (k ? (k + 1 == std::min<std::size_t>(ranked.size(), 3) ? " or " : ", ") : "") + ("'" + ranked[k].second + "'");
  return out + "?";
}

Result<v1::AuditView> audit_view(store::EventStore& store, const std::string& id) {
  if (auto s = check_slug("deal id", id); !s) return s;
  auto deal = store.read_stream(deal_stream(id), 1, store::Direction::forward, kAll);
  if (!deal) return deal.status();
  if (deal->empty()) return Status::not_found("deal '" + id + "' does not exist" + closest_deals(store, id));
  std::set<std::string> ids;
  std::string goal;
  for (const auto& e : *deal) {
    ids.insert(e.event_id());
    if (e.has_lead_captured()) goal = e.lead_captured().goal_id();
  }
  v1::AuditView out;
  out.set_deal_id(id);
  // Downstream: events elsewhere whose cause is one of this deal's events.
  std::vector<v1::Envelope> caused;
  std::vector<std::string> streams = {kCanvasStream, kMarketingStream};
  if (!goal.empty()) streams.push_back(goal_stream(goal));
  for (const auto& s : streams) {
    auto events = store.read_stream(s, 1, store::Direction::forward, kAll);
    if (!events) return events.status();
    for (const auto& e : *events)
      if (ids.count(e.causation_id())) caused.push_back(e);
  }
  std::sort(caused.begin(), caused.end(), [](const auto& a, const auto& b) { return a.position() < b.position(); });
  for (auto& e : caused) *out.add_caused() = std::move(e);

  const v1::HypothesisStated* hypothesis = nullptr;
  const v1::ImplicationAssessed* implication = nullptr;
  const v1::QualificationScored* score = nullptr;
  for (std::size_t i = 0; i < deal->size(); ++i) {
    const auto& e = (*deal)[i];
    if (e.has_hypothesis_stated()) hypothesis = &e.hypothesis_stated();
    if (e.has_implication_assessed()) implication = &e.implication_assessed();
    if (e.has_qualification_scored()) score = &e.qualification_scored();
    if (!e.has_decision_made()) continue;
    auto* d = out.add_decisions();
    *d->mutable_event() = e;
    auto* in = d->mutable_inputs();
    if (hypothesis) {
      *in->mutable_hypothesis() = *hypothesis;
      // As whoever recorded the decision saw the canvas (everything recorded before it), and
      // the canvas on the decision's business date as the ledger knows it now.
      auto then = confidence_in(store, hypothesis->assumption_id(), AsOf{.position = e.position() - 1});
      if (!then) return then.status();
      auto now = confidence_in(store, hypothesis->assumption_id(), AsOf{.occurred = from_timestamp(e.occurred_at())});
      if (!now) return now.status();
      if (*then) in->set_assumption_confidence_then(**then);
      if (*now) in->set_assumption_confidence_on_decision_date(**now);
    }
    if (implication) *in->mutable_implication() = *implication;
    if (score) *in->mutable_qualification() = *score;
    for (std::size_t k = i + 1; k < deal->size(); ++k) {
      const auto& n = (*deal)[k];
      if (n.has_decision_made()) break;  // superseded: later events belong to the next revision
      if (n.has_decision_approved()) *d->mutable_approval() = n;
      else *d->add_then() = n;
    }
  }
  return out;
}

// An assumption's history in business-time order: its registration and every confidence
// change, each with the values as last restated (a fact recorded later that occurred before
// it), and what was recorded first.
Result<v1::AssumptionHistoryView> assumption_history_view(store::EventStore& store, const std::string& id) {
  auto canvas = store.read_stream(kCanvasStream, 1, store::Direction::forward, kAll);
  if (!canvas) return canvas.status();
  auto event_by_id = [&](const std::string& event_id) -> std::optional<v1::Envelope> {
    auto pos = store.find_event_id(event_id);
    if (!pos || !pos->has_value()) return std::nullopt;
    auto e = store.read_event(**pos);
    if (!e) return std::nullopt;
    return *e;
  };
  std::vector<const v1::Envelope*> timeline;
  std::map<std::string, std::vector<const v1::Envelope*>> restated;  // change id -> restatements, in position order
  std::set<std::string> recorded;  // the confidence changes recorded as such
  for (const auto& e : *canvas) {
    if ((e.has_assumption_registered() && e.assumption_registered().assumption_id() == id) ||
        (e.has_assumption_revised() && e.assumption_revised().assumption_id() == id) ||
        (e.has_assumption_confidence_changed() && e.assumption_confidence_changed().assumption_id() == id)) {
      timeline.push_back(&e);
      recorded.insert(e.event_id());
    }
    if (e.has_derivation_restated()) restated[e.derivation_restated().restated_event_id()].push_back(&e);
  }
  // A change first derived by a restatement (its cause was recorded before what made it follow).
  for (const auto& [change, restatements] : restated) {
    const auto& first = restatements.front()->derivation_restated();
    if (!recorded.count(change) && first.has_confidence() && first.confidence().assumption_id() == id)
      timeline.push_back(restatements.front());
  }
  if (timeline.empty()) return Status::not_found("assumption '" + id + "' is not in the canvas");
  std::sort(timeline.begin(), timeline.end(), [](const v1::Envelope* a, const v1::Envelope* b) { return occurs_before(*a, *b); });
  v1::AssumptionHistoryView out;
  out.set_assumption_id(id);
  v1::AssumptionConfidenceChanged running;  // the confidence and status before each entry
  running.set_assumption_id(id);
  for (const auto* e : timeline) {
    auto* c = out.add_changes();
    *c->mutable_event() = *e;
    if (e->has_assumption_registered()) {
      running.set_confidence(e->assumption_registered().confidence());
      running.set_status(v1::UNTESTED);
      continue;
    }
    if (e->has_assumption_revised()) {  // a restatement by a person: from what held before it
      const auto& r = e->assumption_revised();
      auto* h = c->mutable_holds();
      h->set_assumption_id(id);
      h->set_previous(running.confidence());
      h->set_confidence(r.confidence());
      h->set_status(r.status() != v1::ASSUMPTION_STATUS_UNSPECIFIED ? r.status() : running.status());
      h->set_evidence(r.evidence());
      running = *h;
      continue;
    }
    // What holds now: the last restatement's values, or a withdrawal.
    auto restate = [&](const v1::Envelope& r) {
      if (r.derivation_restated().withdrawn()) c->set_withdrawn(true);
      else *c->mutable_holds() = r.derivation_restated().confidence();
    };
    if (e->has_derivation_restated()) {  // derived later, not when its cause was recorded
      c->set_derived_late(true);
      *c->mutable_holds() = e->derivation_restated().confidence();
      for (const auto* r : restated[e->derivation_restated().restated_event_id()]) restate(*r);
    } else if (e->has_assumption_confidence_changed()) {
      *c->mutable_holds() = e->assumption_confidence_changed();
      if (!e->causation_id().empty())
        if (auto cause = event_by_id(e->causation_id())) *c->mutable_cause() = std::move(*cause);
      for (const auto* r : restated[e->event_id()]) {
        auto* x = c->add_restated();
        *x->mutable_event() = *r;
        if (auto cause = event_by_id(r->causation_id())) *x->mutable_cause() = std::move(*cause);
        restate(*r);
      }
    }
    if (c->has_holds() && !c->withdrawn()) running = c->holds();
  }
  return out;
}

namespace {

// Queries of the core only (canvas, marketing, metrics of one dimension) need no finished deal.
bool needs_deals(const v1::QueryRequest& q) {
  switch (q.query_case()) {
    // The core holds every deal in play, the aggregates and the late inputs: enough for the
    // views that show open deals only (goal, today, pipeline) or sums.
    case v1::QueryRequest::kCanvas:
    case v1::QueryRequest::kDocuments:
    case v1::QueryRequest::kSegments:
    case v1::QueryRequest::kGoal:
    case v1::QueryRequest::kToday:
    case v1::QueryRequest::kPipeline:
    case v1::QueryRequest::kOpportunities:
    case v1::QueryRequest::kMetrics: return false;  // the aggregates, for any filter
    // Open, stalled and rejected deals have no outcome (or a stall): they are in play, in the
    // core. Won and lost ones may be finished, and no status filter means every deal.
    case v1::QueryRequest::kDeals: {
      const auto status = q.deals().status();
      return status != v1::DEAL_OPEN && status != v1::DEAL_STALLED && status != v1::DEAL_REJECTED;
    }
    default: return true;
  }
}

}  // namespace

// A thread (deal or campaign) as it stood at `at`: its stream's events recorded by then and
// occurred by then, in business-time order. No bound: the whole stream.
template <class State>
Result<State> thread_at(const store::EventStore& store, const std::string& stream, const AsOf& at) {
  auto last = last_position_of(store, at);
  if (!last) return last.status();
  auto events = store.read_stream(stream, 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
  if (!events) return events.status();
  std::vector<const v1::Envelope*> in;
  for (const auto& e : *events)
    if (e.position() <= *last && (!at.occurred || from_timestamp(e.occurred_at()) <= *at.occurred)) in.push_back(&e);
  std::sort(in.begin(), in.end(), [](const v1::Envelope* a, const v1::Envelope* b) { return occurs_before(*a, *b); });
  State s;
  for (const auto* e : in) apply(s, *e);
  return s;
}

namespace {
Result<v1::QueryReply> answer_from_fold(store::EventStore& store, const v1::QueryRequest& q, Micros clock, const Branch* branch);
}  // namespace

Result<v1::QueryReply> answer_query(store::EventStore& store, const v1::QueryRequest& q, Micros clock) {
  v1::QueryReply reply;
  // A thread at a point in time is its stream up to then. The audit and the why show every
  // revision: no time travel.
  auto thread_time = as_of_of(q);
  if (!thread_time) return thread_time.status();
  switch (q.query_case()) {
    case v1::QueryRequest::kDeal: {
      if (auto s = check_slug("deal id", q.deal().deal_id()); !s) return s;
      auto d = thread_at<DealState>(store, deal_stream(q.deal().deal_id()), *thread_time);
      if (!d) return d.status();
      if (!d->exists())
        return Status::not_found("deal '" + q.deal().deal_id() + "' does not exist" +
                                 (q.as_of().empty() && q.known_at().empty() && !q.has_at_position() ? closest_deals(store, q.deal().deal_id())
                                                                                                   : " at that time"));
      *reply.mutable_deal() = projections::deal_thread_view(*d);
      return reply;
    }
    case v1::QueryRequest::kCampaign:
    case v1::QueryRequest::kCampaignContact: {
      const std::string& id = q.has_campaign() ? q.campaign().campaign_id() : q.campaign_contact().campaign_id();
      if (auto s = check_slug("campaign id", id); !s) return s;
      auto c = thread_at<CampaignState>(store, campaign_stream(id), *thread_time);
      if (!c) return c.status();
      if (!c->exists()) return Status::not_found("campaign '" + id + "' does not exist");
      if (q.has_campaign()) {
        *reply.mutable_campaign() = projections::campaign_view(*c);
        return reply;
      }
      auto contact = c->contacts.find(lower(q.campaign_contact().email()));
      if (contact == c->contacts.end())
        return Status::not_found("'" + q.campaign_contact().email() + "' is not a contact of campaign '" + id + "'");
      auto* answer = reply.mutable_campaign_contact();
      answer->set_campaign_id(id);
      answer->set_segment(c->opened->segment());
      answer->set_goal_id(c->opened->goal_id());
      *answer->mutable_contact() = contact->second;
      return reply;
    }
    case v1::QueryRequest::kAudit: {
      auto a = audit_view(store, q.audit().deal_id());
      if (!a) return a.status();
      *reply.mutable_audit() = std::move(*a);
      return reply;
    }
    case v1::QueryRequest::kWhyCanvas: {
      auto w = assumption_history_view(store, q.why_canvas().assumption_id());
      if (!w) return w.status();
      *reply.mutable_why_canvas() = std::move(*w);
      return reply;
    }
    case v1::QueryRequest::kFiles: {
      const auto& f = q.files();
      AsOf at = *thread_time;
      std::string commit;
      if (!f.commit().empty()) {
        if (!q.as_of().empty() || !q.known_at().empty() || q.has_at_position())
          return Status::invalid("--commit names a point in time of its own: leave out --as-of, --known-at and --at-position");
        auto p = commit_position(store, f.commit());
        if (!p) return p.status();
        auto imported = store.read_event(*p);
        if (!imported) return imported.status();
        commit = imported->source_imported().revision();
        at = AsOf{.position = *p};
      }
      if (f.path().empty()) {  // the files in force: the last version of each path is enough
        auto latest = files_latest_at(store, at);
        if (!latest) return latest.status();
        *reply.mutable_files() = projections::files_view(*latest);
        reply.mutable_files()->set_commit(commit);
        return reply;
      }
      auto files = files_at(store, at);
      if (!files) return files.status();
      auto log = projections::file_log(*files, f.path());
      if (log.versions().empty()) return Status::not_found("no file '" + printable(f.path()) + "' was recorded" +
                                                           (commit.empty() && q.as_of().empty() && q.known_at().empty() && !q.has_at_position()
                                                                ? std::string(" (`leanos files` lists the workspace's files)")
                                                                : std::string(" by then")));
      *reply.mutable_file_log() = std::move(log);
      return reply;
    }
    case v1::QueryRequest::kScenarios: {
      // The scenarios saved by then (recorded by then, and saved by the as-of date).
      auto last = last_position_of(store, *thread_time);
      if (!last) return last.status();
      auto events = store.read_stream(kScenariosStream, 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
      if (!events) return events.status();
      projections::ScenariosFold fold;
      for (const auto& e : *events)
        if (e.position() <= *last && (!thread_time->occurred || from_timestamp(e.occurred_at()) <= *thread_time->occurred))
          projections::apply(fold, e);
      const std::string& name = q.scenarios().name();
      if (name.empty()) {
        *reply.mutable_scenarios() = projections::scenarios_view(fold);
        return reply;
      }
      *reply.mutable_scenarios() = projections::scenario_versions(fold, name);
      if (reply.scenarios().scenarios().empty()) {
        std::string saved;
        for (const auto& [n, versions] : fold.names) saved += (saved.empty() ? "" : ", ") + n;
        return Status::not_found("no scenario '" + printable(name) + "' was saved" +
                                 (saved.empty() ? std::string(" (none is: save one with whatif --save NAME)") : "; saved: " + saved));
      }
      return reply;
    }
    case v1::QueryRequest::QUERY_NOT_SET:
      return Status::invalid("the query names no view; set one of canvas, goal, metrics, opportunities, deal, deals, audit, "
                             "why_canvas, today, pipeline, campaign, campaign_contact, documents, segments, files, scenarios");
    default: break;
  }
  return answer_from_fold(store, q, clock, nullptr);
}

Result<v1::QueryReply> answer_on_branch(store::EventStore& store, const v1::QueryRequest& q, Micros clock, const Branch& branch) {
  switch (q.query_case()) {
    case v1::QueryRequest::kCanvas:
    case v1::QueryRequest::kGoal:
    case v1::QueryRequest::kMetrics:
    case v1::QueryRequest::kOpportunities:
    case v1::QueryRequest::kToday:
    case v1::QueryRequest::kPipeline:
    case v1::QueryRequest::kDeals:
    case v1::QueryRequest::kSegments: return answer_from_fold(store, q, clock, &branch);
    default:
      return Status::invalid("what if reads the views the ledger's fold gives: canvas, goal, metrics, opportunities, today, pipeline, "
                             "deals or segments");
  }
}

namespace {

// The views of the ledger's fold (of the log, or of a branch of it).
Result<v1::QueryReply> answer_from_fold(store::EventStore& store, const v1::QueryRequest& q, Micros clock, const Branch* branch) {
  v1::QueryReply reply;
  auto as_of = as_of_of(q);
  if (!as_of) return as_of.status();
  const Micros now = now_of(*as_of, clock);
  projections::DealListFilter filter;
  if (q.has_deals()) {
    filter = {.stage = q.deals().stage(), .segment = q.deals().segment(), .goal = q.deals().goal(), .status = q.deals().status()};
    if (auto s = projections::check(filter); !s) return s;
  }
  LedgerOptions options;
  options.need_deals = needs_deals(q);
  options.branch = branch;
  auto ledger = read_ledger(store, *as_of, options);
  if (!ledger) return ledger.status();
  const auto& v = ledger->view;
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
    case v1::QueryRequest::kSegments: *reply.mutable_segments() = projections::segments_view(v); break;
    case v1::QueryRequest::kDocuments: {
      // The versions in force then; their text stays in the log.
      for (const auto* entry : projections::sorted(v.documents())) {
        const auto& [path, ref] = *entry;
        if (ref.removed()) continue;  // gone from the workspace then
        auto* d = reply.mutable_documents()->add_documents();
        d->set_path(path);
        to_timestamp(ref.written_at(), d->mutable_written_at());
        d->set_versions(ref.versions());
        d->set_event_id(ref.event_id());
        d->set_position(ref.position());
        if (q.documents().content()) {
          auto e = store.read_event(ref.position());
          if (!e) return e.status();
          auto text = document_text(store, e->document_written());
          if (!text) return text.status();
          d->set_content(std::move(*text));
        }
      }
      break;
    }
    default: break;
  }
  return reply;
}

}  // namespace

}  // namespace leanos
