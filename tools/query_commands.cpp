// Reading the ledger: canvas, goals, metrics, marketing opportunities, replay, audit, why.
// Every query answers "as of": --as-of (business time), --known-at (what the store had
// recorded), --at-position (a log prefix).
#include <algorithm>
#include <chrono>
#include <set>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "actors/ledger_reader.h"
#include "actors/process_managers.h"
#include "actors/queries.h"
#include "projections/metrics.h"
#include "tools/cli.h"
#include "tools/views.h"

namespace leanos::cli {

namespace {

using nlohmann::json;

// The CLI's --as-of / --known-at / --at-position, copied into the request when parsed.
struct TimeTravelOptions {
  std::string as_of, known_at;
  std::uint64_t at_position = 0;
  CLI::Option* position_opt = nullptr;
  void into(v1::QueryRequest& q) const {
    q.set_as_of(as_of);
    q.set_known_at(known_at);
    if (position_opt->count() > 0) q.set_at_position(at_position);
  }
};

void add_time_travel(CLI::App* sub, TimeTravelOptions& t) {
  sub->add_option("--as-of", t.as_of, "the business timeline up to DATE: events that occurred on or before it (a date means its end, UTC)");
  sub->add_option("--known-at", t.known_at, "as the store knew it at DATE: events recorded by then (audit-grade); combines with --as-of");
  t.position_opt = sub->add_option("--at-position", t.at_position, "fold the log up to position N");
}

// ---- replay ----------------------------------------------------------------------------------

int replay(const GlobalOptions& g, bool process_managers, bool write_snapshots) {
  auto store = open_store(g);
  if (!store) return fail(store.status());
  if (process_managers) {
    auto written = catch_up_process_managers(**store);
    if (!written) return fail(written.status());
    std::fprintf(stderr, "process managers: %zu derived event(s) were missing and are now appended\n", *written);
  }
  const auto t0 = std::chrono::steady_clock::now();
  LedgerOptions options;
  options.use_snapshots = false;
  options.write_snapshots = write_snapshots;
  auto r = read_ledger(**store, AsOf{}, options);
  if (!r) return fail(r.status());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Written in bulk, snapshots land in overlapping files that every lookup would read.
  if (write_snapshots)
    if (auto s = (*store)->compact_snapshots(); !s) return fail(s);
  const double eps = secs > 0 ? r->folded / secs : 0;
  if (g.json)
    out("{\"events\":%llu,\"seconds\":%.6f,\"events_per_second\":%.0f,\"position\":%llu}\n",
                static_cast<unsigned long long>(r->folded), secs, eps, static_cast<unsigned long long>(r->view.position()));
  else
    out("replayed %llu events into every projection in %.3f s (%.0f events/s); %s\n",
        static_cast<unsigned long long>(r->folded), secs, eps,
        write_snapshots ? ("snapshots rewritten: core every " + std::to_string(options.core_snapshot_every) +
                           " events, full at multiples of " + std::to_string(options.snapshot_every) +
                           " spaced as the state grows").c_str()
                        : "no snapshots written");
  return 0;
}

// ---- audit and why -----------------------------------------------------------------------------

json event_brief(const v1::Envelope& e) {
  return {{"position", e.position()},    {"type", e.type()},   {"stream", e.stream()},
          {"occurred_at", format_time(from_timestamp(e.occurred_at()))},
          {"recorded_at", format_time(from_timestamp(e.recorded_at()))},
          {"actor", e.actor()},          {"event_id", e.event_id()}, {"payload", proto_json(*payload_of(e))}};
}

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

int audit(const GlobalOptions& g, const std::string& id) {
  if (auto s = check_slug("deal id", id); !s) return fail(s);
  auto store = open_store(g);
  if (!store) return fail(store.status());
  constexpr auto kAll = std::numeric_limits<std::size_t>::max();
  auto deal = (*store)->read_stream(deal_stream(id), 1, store::Direction::forward, kAll);
  if (!deal) return fail(deal.status());
  if (deal->empty()) return fail(Status::not_found("deal '" + id + "' does not exist"));
  std::set<std::string> ids;
  std::string goal;
  for (const auto& e : *deal) {
    ids.insert(e.event_id());
    if (e.has_lead_captured()) goal = e.lead_captured().goal_id();
  }
  // Downstream: events elsewhere whose cause is one of this deal's events.
  std::vector<v1::Envelope> caused;
  std::vector<std::string> streams = {kCanvasStream, kMarketingStream};
  if (!goal.empty()) streams.push_back(goal_stream(goal));
  for (const auto& s : streams) {
    auto events = (*store)->read_stream(s, 1, store::Direction::forward, kAll);
    if (!events) return fail(events.status());
    for (const auto& e : *events)
      if (ids.count(e.causation_id())) caused.push_back(e);
  }
  std::sort(caused.begin(), caused.end(), [](const auto& a, const auto& b) { return a.position() < b.position(); });

  json decisions = json::array();
  const v1::HypothesisStated* hypothesis = nullptr;
  const v1::ImplicationAssessed* implication = nullptr;
  const v1::QualificationScored* score = nullptr;
  for (std::size_t i = 0; i < deal->size(); ++i) {
    const auto& e = (*deal)[i];
    if (e.has_hypothesis_stated()) hypothesis = &e.hypothesis_stated();
    if (e.has_implication_assessed()) implication = &e.implication_assessed();
    if (e.has_qualification_scored()) score = &e.qualification_scored();
    if (!e.has_decision_made()) continue;
    json d = event_brief(e);
    json inputs;
    if (hypothesis) {
      inputs["hypothesis"] = proto_json(*hypothesis);
      // As whoever recorded the decision saw the canvas (everything recorded before it), and
      // the canvas on the decision's business date as the ledger knows it now.
      auto then = confidence_in(**store, hypothesis->assumption_id(), AsOf{.position = e.position() - 1});
      if (!then) return fail(then.status());
      auto now = confidence_in(**store, hypothesis->assumption_id(), AsOf{.occurred = from_timestamp(e.occurred_at())});
      if (!now) return fail(now.status());
      inputs["assumption_confidence_then"] = *then ? json(**then) : json(nullptr);
      inputs["assumption_confidence_on_decision_date"] = *now ? json(**now) : json(nullptr);
    }
    inputs["implication"] = implication ? proto_json(*implication) : json(nullptr);
    inputs["qualification"] = score ? proto_json(*score) : json(nullptr);
    d["inputs"] = inputs;
    d["approval"] = nullptr;
    json after = json::array();
    for (std::size_t k = i + 1; k < deal->size(); ++k) {
      const auto& n = (*deal)[k];
      if (n.has_decision_made()) break;  // superseded: later events belong to the next revision
      if (n.has_decision_approved()) d["approval"] = event_brief(n);
      else after.push_back(event_brief(n));
    }
    d["then"] = after;
    decisions.push_back(d);
  }
  json downstream = json::array();
  for (const auto& e : caused) downstream.push_back(event_brief(e));

  if (g.json) {
    json j = {{"deal_id", id}, {"decisions", decisions}, {"caused", downstream}};
    out("%s\n", j.dump().c_str());
    return 0;
  }
  out("audit of deal %s: %zu decision(s)\n", id.c_str(), decisions.size());
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const auto& d = decisions[i];
    const auto& p = d["payload"];
    out("\n%s %s on %s by %s (recorded %s, position %llu)\n", i ? "revision:" : "decision:",
                p.value("verdict", "").c_str(), d["occurred_at"].get<std::string>().substr(0, 10).c_str(),
                d["actor"].get<std::string>().c_str(), d["recorded_at"].get<std::string>().c_str(),
                static_cast<unsigned long long>(d["position"].get<std::uint64_t>()));
    out("  reason: %s\n", p.value("reason", "").c_str());
    if (p.contains("alternatives"))
      for (const auto& alt : p["alternatives"]) out("  alternative considered: %s\n", alt.get<std::string>().c_str());
    out("  impact %.2f%s\n", p.value("impact", 0.0),
                p.value("approval_required", false) ? " (needs human approval)" : "");
    const auto& in = d["inputs"];
    auto percent = [](const json& v) { return v.is_null() ? std::string("-") : std::to_string(v.get<int>()) + " %"; };
    if (in.contains("hypothesis")) {
      out("  input: tests %s at %d %%; the canvas had it at %s when this was recorded", in["hypothesis"].value("assumption_id", "").c_str(),
          in["hypothesis"].value("confidence", 0), percent(in["assumption_confidence_then"]).c_str());
      if (in["assumption_confidence_then"] != in["assumption_confidence_on_decision_date"])  // dated apart, or facts of that date recorded since
        out(", %s on the decision's date as known now", percent(in["assumption_confidence_on_decision_date"]).c_str());
      out("\n");
    }
    if (!in["implication"].is_null())
      out("  input: ARR %s-%s, strategic %s, priority %.2f\n",
                  dollars(std::stoll(in["implication"].value("arr_low", "0"))).c_str(),
                  dollars(std::stoll(in["implication"].value("arr_high", "0"))).c_str(),
                  in["implication"].value("strategic", "").c_str(), in["implication"].value("priority", 0.0));
    if (!in["qualification"].is_null())
      out("  input: qualification score %.2f %s\n", in["qualification"].value("total", 0.0),
                  in["qualification"].value("verdict", "").c_str());
    if (!d["approval"].is_null())
      out("  approved by %s on %s\n", d["approval"]["payload"].value("approved_by", "").c_str(),
                  d["approval"]["occurred_at"].get<std::string>().substr(0, 10).c_str());
    for (const auto& n : d["then"])
      out("  then %s  %s\n", n["occurred_at"].get<std::string>().substr(0, 10).c_str(), n["type"].get<std::string>().c_str());
  }
  out("\ncaused downstream\n");
  for (const auto& e : caused) {
    out("  %s  %-28s %s", format_date(from_timestamp(e.occurred_at())).c_str(), e.type().c_str(), e.stream().c_str());
    if (e.has_assumption_confidence_changed())
      out("  %s %d %% -> %d %%", e.assumption_confidence_changed().assumption_id().c_str(),
                  e.assumption_confidence_changed().previous(), e.assumption_confidence_changed().confidence());
    if (e.has_goal_progressed())
      out("  %s -> %s", dollars(e.goal_progressed().previous()).c_str(), dollars(e.goal_progressed().current()).c_str());
    if (e.has_subgoal_progressed())
      out("  %s %lld -> %lld%s", e.subgoal_progressed().subgoal_id().c_str(),
                  static_cast<long long>(e.subgoal_progressed().previous()),
                  static_cast<long long>(e.subgoal_progressed().current()), e.subgoal_progressed().done() ? " done" : "");
    if (e.has_content_opportunity_flagged()) out("  %s", e.content_opportunity_flagged().topic().c_str());
    if (e.has_canvas_metric_recorded())  // one line per metric: say which, and its new value
      out("  %s = %lld", e.canvas_metric_recorded().metric().c_str(),
          static_cast<long long>(e.canvas_metric_recorded().value()));
    out("\n");
  }
  return 0;
}

// An assumption's history in business-time order: its registration and every confidence
// change, each with the values as last restated (a fact recorded later that occurred before
// it), and what was recorded first.
int why_canvas(const GlobalOptions& g, const std::string& id) {
  auto store = open_store(g);
  if (!store) return fail(store.status());
  auto canvas = (*store)->read_stream(kCanvasStream, 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
  if (!canvas) return fail(canvas.status());
  auto brief_of = [&](const std::string& event_id) -> std::optional<json> {
    auto pos = (*store)->find_event_id(event_id);
    if (!pos || !pos->has_value()) return std::nullopt;
    auto e = (*store)->read_event(**pos);
    if (!e) return std::nullopt;
    return event_brief(*e);
  };
  std::vector<const v1::Envelope*> timeline;
  std::map<std::string, std::vector<const v1::Envelope*>> restated;  // change id -> restatements, in position order
  std::set<std::string> recorded;  // the confidence changes recorded as such
  for (const auto& e : *canvas) {
    if ((e.has_assumption_registered() && e.assumption_registered().assumption_id() == id) ||
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
  std::sort(timeline.begin(), timeline.end(), [](const v1::Envelope* a, const v1::Envelope* b) { return occurs_before(*a, *b); });
  json changes = json::array();
  for (const auto* e : timeline) {
    json c = event_brief(*e);
    if (e->has_derivation_restated()) {  // derived later, not when its cause was recorded
      c["type"] = "AssumptionConfidenceChanged";
      c["payload"] = proto_json(e->derivation_restated().confidence());
      c["derived_late"] = true;
      for (const auto* r : restated[e->derivation_restated().restated_event_id()])
        if (r->derivation_restated().withdrawn()) c["withdrawn"] = true;
        else c["payload"] = proto_json(r->derivation_restated().confidence());
    } else if (e->has_assumption_confidence_changed()) {
      if (!e->causation_id().empty())
        if (auto cause = brief_of(e->causation_id())) c["cause"] = *cause;
      json corrections = json::array();
      for (const auto* r : restated[e->event_id()]) {
        json x = event_brief(*r);
        if (auto cause = brief_of(r->causation_id())) x["cause"] = *cause;
        corrections.push_back(x);
        // What holds now: the last restatement's values.
        if (r->derivation_restated().withdrawn()) c["withdrawn"] = true;
        else c["payload"] = proto_json(r->derivation_restated().confidence());
      }
      if (!corrections.empty()) {
        c["recorded_payload"] = proto_json(e->assumption_confidence_changed());
        c["restated"] = corrections;
      }
    }
    changes.push_back(c);
  }
  if (changes.empty()) return fail(Status::not_found("assumption '" + id + "' is not in the canvas"));
  if (g.json) {
    out("%s\n", json({{"assumption_id", id}, {"changes", changes}}).dump().c_str());
    return 0;
  }
  for (const auto& c : changes) {
    const auto& p = c["payload"];
    const std::string date = c["occurred_at"].get<std::string>().substr(0, 10);
    if (c["type"] == "AssumptionRegistered") {
      out("%s  registered at %d %% by %s: %s\n", date.c_str(), p.value("confidence", 0), c["actor"].get<std::string>().c_str(),
                  p.value("statement", "").c_str());
      continue;
    }
    std::string status = p.value("status", "");
    if (status.rfind("ASSUMPTION_", 0) == 0) status = status.substr(11);
    if (c.value("withdrawn", false)) out("%s  withdrawn: no longer follows", date.c_str());
    else out("%s  %d %% -> %d %% (%s)", date.c_str(), p.value("previous", 0), p.value("confidence", 0), status.c_str());
    if (c.contains("cause"))
      out("  because deal %s recorded %s by %s%s", p.value("deal_id", "").c_str(),
                  c["cause"]["payload"].value("result", "").c_str(), c["cause"]["actor"].get<std::string>().c_str(),
                  p.value("evidence", "").empty() ? "" : (": " + p.value("evidence", "")).c_str());
    out("\n");
    if (c.contains("restated")) {
      const auto& was = c["recorded_payload"];
      const auto& last = c["restated"].back();
      out("            restated on %s (first recorded as %d %% -> %d %%): %s\n", last["recorded_at"].get<std::string>().substr(0, 10).c_str(),
          was.value("previous", 0), was.value("confidence", 0),
          last.contains("cause") ? (last["cause"]["type"].get<std::string>() + " of " +
                                    last["cause"]["stream"].get<std::string>() + " dated " +
                                    last["cause"]["occurred_at"].get<std::string>().substr(0, 10) + " was recorded later")
                                       .c_str()
                                 : "a fact dated before it was recorded later");
    }
  }
  return 0;
}

// The deal thread's six stages as they stand, with dates.
int deal_show(const GlobalOptions& g, const std::string& id) {
  if (auto st = check_slug("deal id", id); !st) return fail(st);
  auto store = open_store(g);
  if (!store) return fail(store.status());
  auto d = CommandHandler(**store).deal(id);
  if (!d) return fail(d.status());
  if (!d->exists()) return fail(Status::not_found("deal '" + id + "' does not exist"));
  if (g.json) out("%s\n", deal_json(*d).dump().c_str());
  else out("%s", deal_text(*d).c_str());
  return 0;
}

// The campaign thread's six stages.
// The campaign thread folded from its stream; not_found when it was never opened.
Result<CampaignState> opened_campaign(const GlobalOptions& g, const std::string& id) {
  if (auto st = check_slug("campaign id", id); !st) return st;
  auto store = open_store(g);
  if (!store) return store.status();
  auto c = CommandHandler(**store).campaign(id);
  if (c && !c->exists()) return Status::not_found("campaign '" + id + "' does not exist");
  return c;
}

int campaign_show(const GlobalOptions& g, const std::string& id) {
  auto c = opened_campaign(g, id);
  if (!c) return fail(c.status());
  if (g.json) out("%s\n", campaign_json(*c).dump().c_str());
  else out("%s", campaign_text(*c).c_str());
  return 0;
}

int campaign_contact(const GlobalOptions& g, const std::string& id, const std::string& email) {
  auto c = opened_campaign(g, id);
  if (!c) return fail(c.status());
  auto contact = c->contacts.find(lower(email));
  if (contact == c->contacts.end())
    return fail(Status::not_found("'" + email + "' is not a contact of campaign '" + id + "'"));
  v1::CampaignContact answer;
  answer.set_campaign_id(id);
  answer.set_segment(c->opened->segment());
  answer.set_goal_id(c->opened->goal_id());
  *answer.mutable_contact() = contact->second;
  out("%s\n", to_json(answer).c_str());
  return 0;
}

}  // namespace

int run_query(const GlobalOptions& g, const v1::QueryRequest& q) {
  GlobalOptions local = g;
  local.json = q.json();
  switch (q.query_case()) {
    case v1::QueryRequest::kCanvas:
    case v1::QueryRequest::kGoal:
    case v1::QueryRequest::kMetrics:
    case v1::QueryRequest::kOpportunities:
    case v1::QueryRequest::kToday:
    case v1::QueryRequest::kPipeline:
    case v1::QueryRequest::kDeals: break;  // typed views: answer_query (actors/queries.h)
    case v1::QueryRequest::kDeal: return deal_show(local, q.deal().deal_id());
    case v1::QueryRequest::kAudit: return audit(local, q.audit().deal_id());
    case v1::QueryRequest::kWhyCanvas: return why_canvas(local, q.why_canvas().assumption_id());
    case v1::QueryRequest::kCampaign: return campaign_show(local, q.campaign().campaign_id());
    case v1::QueryRequest::kCampaignContact:
      return campaign_contact(local, q.campaign_contact().campaign_id(), q.campaign_contact().email());
    case v1::QueryRequest::QUERY_NOT_SET:
      return fail(Status::invalid("the query names no projection; set one of canvas, goal, metrics, opportunities, deal, "
                                  "deals, audit, why_canvas, today, pipeline, campaign, campaign_contact"));
  }
  return fail(Status::invalid("this query is answered with a typed view"));
}

void add_query_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  auto find = [&](const char* name) -> CLI::App* {
    for (auto* s : app.get_subcommands({}))
      if (s->get_name() == name) return s;
    return app.add_subcommand(name);
  };
  // Every query goes through query(): locally, or with --server to the running server.
  auto register_query = [&](CLI::App* s, std::function<void(v1::QueryRequest&)> fill, bool time_travel = true) {
    auto t = std::make_shared<TimeTravelOptions>();
    if (time_travel) add_time_travel(s, *t);
    s->callback([&, t, time_travel, fill] {
      action = [&g, t, time_travel, fill] {
        v1::QueryRequest q;
        fill(q);
        if (time_travel) t->into(q);
        return query(g, q);
      };
    });
  };
  register_query(find("canvas")->add_subcommand("show", "assumptions with confidence and evidence; canvas metrics"),
                 [](v1::QueryRequest& q) { q.mutable_canvas(); });
  {
    auto id = std::make_shared<std::string>();
    auto* s = find("goal")->add_subcommand("show", "a goal: current vs target, subgoals, milestones");
    s->add_option("goal-id", *id)->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_goal()->set_goal_id(*id); });
  }
  {
    auto f = std::make_shared<projections::DealFilter>();
    auto* s = app.add_subcommand("metrics", "the seed's sales performance metrics, with targets");
    s->add_option("--segment", f->segment);
    s->add_option("--goal", f->goal);
    s->add_option("--campaign", f->campaign);
    register_query(s, [f](v1::QueryRequest& q) {
      q.mutable_metrics()->set_segment(f->segment);
      q.mutable_metrics()->set_goal(f->goal);
      q.mutable_metrics()->set_campaign(f->campaign);
    });
  }
  {
    auto* m = app.add_subcommand("marketing", "content opportunities flagged by sales learnings");
    m->require_subcommand(1);
    register_query(m->add_subcommand("opportunities", "list content opportunities"),
                   [](v1::QueryRequest& q) { q.mutable_opportunities(); });
  }
  register_query(app.add_subcommand("today", "the morning report: goals, what needs you, alerts, recommendations"),
                 [](v1::QueryRequest& q) { q.mutable_today(); });
  {
    auto segment = std::make_shared<std::string>();
    auto* s = app.add_subcommand("pipeline", "open deals by stage and action: days in stage, priority, next action");
    s->add_option("--segment", *segment);
    register_query(s, [segment](v1::QueryRequest& q) { q.mutable_pipeline()->set_segment(*segment); });
  }
  {
    auto pm = std::make_shared<bool>(false);
    auto no_snapshots = std::make_shared<bool>(false);
    auto* s = app.add_subcommand("replay", "rebuild every projection from the log; print the time and events/s");
    s->add_flag("--process-managers", *pm, "also append derived events that are missing (idempotent)");
    s->add_flag("--no-snapshots", *no_snapshots, "fold only: leave the stored snapshots as they are");
    s->callback([&, pm, no_snapshots] { action = [&g, pm, no_snapshots] { return replay(g, *pm, !*no_snapshots); }; });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* s = app.add_subcommand("audit", "a deal's decisions: who, when, the inputs then, and what they caused");
    s->add_option("deal-id", *id)->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_audit()->set_deal_id(*id); }, false);
  }
  {
    auto id = std::make_shared<std::string>();
    auto* w = app.add_subcommand("why", "walk back from a canvas value to the deals that caused it");
    w->require_subcommand(1);
    auto* s = w->add_subcommand("canvas", "every confidence change of an assumption and its cause");
    s->add_option("assumption-id", *id)->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_why_canvas()->set_assumption_id(*id); }, false);
  }
  {
    auto f = std::make_shared<v1::DealListQuery>();
    auto* s = find("deal")->add_subcommand("list", "deals: id, company, stage, status, days in stage, what is next");
    s->add_option_function<std::string>("--stage", [f](const std::string& v) { f->set_stage(v); },
                                        "input, hypothesis, implication, decision, actions or learning (or 1..6)");
    s->add_option_function<std::string>("--segment", [f](const std::string& v) { f->set_segment(v); });
    s->add_option_function<std::string>("--status", [f](const std::string& v) { f->set_status(v); },
                                        "open (stalled by inactivity included), won, lost, stalled or rejected");
    s->add_option_function<std::string>("--goal", [f](const std::string& v) { f->set_goal(v); });
    register_query(s, [f](v1::QueryRequest& q) { *q.mutable_deals() = *f; });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* s = find("deal")->add_subcommand("show", "the thread: its six stages as they stand, with dates");
    s->add_option("deal-id", *id)->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_deal()->set_deal_id(*id); }, false);
  }
  {
    auto id = std::make_shared<std::string>();
    auto* s = find("campaign")->add_subcommand("show", "the campaign thread's six stages");
    s->add_option("campaign-id", *id)->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_campaign()->set_campaign_id(*id); }, false);
  }
}

}  // namespace leanos::cli
