// The sales workflow's commands: goal, canvas, segment, deal, campaign, config, analysis.
// Each builds a command payload, and the CommandHandler applies the rules and appends.
#include <spdlog/spdlog.h>

#include <algorithm>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "actors/commands.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "tools/cli/cli.h"
#include "tools/cli/csv.h"
#include "tools/cli/icp.h"
#include "tools/cli/views.h"

namespace leanos::cli {

namespace {

// --at and --id, on every command that records something; --encoding on those that read a file.
struct Recorded {
  std::string at;
  std::string id;
  std::string encoding = "utf-8";
};

void add_encoding(CLI::App* sub, Recorded& r) {
  sub->add_option("--encoding", r.encoding,
                  "the file's text encoding (default utf-8; e.g. latin1, windows-1252, utf-16): transcoded to UTF-8");
}

void add_recorded(CLI::App* sub, Recorded& r) {
  sub->add_option("--at", r.at, "when it happened (ISO-8601 date or date-time, UTC); default now");
  sub->add_option("--id", r.id, "event id; a retry with the same id records nothing new");
}

Result<Envelope> command_of(const GlobalOptions& g, const google::protobuf::Message& payload, const Recorded& r) {
  Micros at = now_micros();
  if (!r.at.empty()) {
    auto t = parse_time(r.at);
    if (!t) return t.status();
    at = *t;
  }
  Envelope c = make_event(payload, at);
  c.set_event_id(r.id.empty() ? new_event_id() : r.id);
  c.set_actor(actor_or_default(g));
  return c;
}

void print_handled(const GlobalOptions& g, const Handled& h) {
  if (g.json) {
    nlohmann::json j;
    j["stream"] = h.stream;
    j["idempotent_retry"] = h.idempotent_retry;
    j["events"] = nlohmann::json::array();
    for (const auto& e : h.events) j["events"].push_back(proto_json(e));
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  for (const auto& e : h.events)
    std::printf("%s %s in %s at position %llu\n", h.idempotent_retry ? "already recorded:" : "recorded", e.type().c_str(),
                (e.stream().empty() ? h.stream : e.stream()).c_str(), static_cast<unsigned long long>(e.position()));
}

// Records several commands, stopping at the first rejection.
int submit_all(const GlobalOptions& g, const std::vector<Envelope>& commands) {
  if (!g.server.empty()) {  // the server applies the same rules through the same actors
    for (const auto& c : commands) {
      auto h = remote_submit()(g, {c});
      if (!h) return fail(h.status());
      print_handled(g, *h);
    }
    return 0;
  }
  auto store = open_store(g, Access::record);
  if (!store) return fail(store.status());
  Runtime runtime(**store);
  std::uint64_t last = 0;
  for (const auto& c : commands) {
    auto h = runtime.submit(c);
    if (!h) return fail(h.status());
    print_handled(g, *h);
    last = std::max(last, h->events.back().position());
  }
  // Outcomes and learnings cause canvas, goal and marketing events: wait for them.
  if (auto s = runtime.settle(last); !s) return fail(s);
  return 0;
}

int submit(const GlobalOptions& g, const google::protobuf::Message& payload, const Recorded& r) {
  auto c = command_of(g, payload, r);
  if (!c) return fail(c.status());
  return submit_all(g, {*c});
}

// The one shape of a recording command: its arguments (with --at and --id), a build step
// that turns them into the payload or says what is wrong, and the recording through the
// rules. `build` takes the parsed arguments and returns Result<payload>.
template <class Args, class Build>
void on_record(CLI::App* s, GlobalOptions& g, Action& action, std::shared_ptr<Args> a, Build build) {
  add_recorded(s, a->r);
  s->callback([&g, &action, a, build] {
    action = [&g, a, build]() -> int {
      auto payload = build(*a);
      if (!payload) return fail(payload.status());
      return submit(g, *payload, a->r);
    };
  });
}


Result<v1::IcpDefined> read_icp(const std::string& path, const std::string& segment, const std::string& encoding) {
  auto text = read_text_file(path, encoding);
  if (!text) return text.status();
  return parse_icp(*text, path, segment);
}

// ---- goal, canvas, config, analysis, marketing ---------------------------------------------

void add_goal(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* goal = app.add_subcommand("goal", "goals and subgoals that spawn deals");
  goal->require_subcommand(1);
  {
    struct A { Recorded r; std::string id, title, metric, due, autonomy = "hybrid"; std::int64_t target = 0, baseline = 0; };
    auto a = std::make_shared<A>();
    auto* s = goal->add_subcommand("define", "define a goal, e.g. g-mrr-50k \"Reach $50K MRR by Q2\"");
    s->add_option("goal-id", a->id)->required();
    s->add_option("--title", a->title)->required();
    s->add_option("--metric", a->metric, "mrr|arr|customers")->required();
    s->add_option("--target", a->target, "dollars or a count")->required();
    s->add_option("--baseline", a->baseline, "where the metric starts (default 0)");
    s->add_option("--due", a->due, "deadline (date)");
    s->add_option("--autonomy", a->autonomy, "auto|ask|hybrid")->check(CLI::IsMember({"auto", "ask", "hybrid"}));
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::GoalDefined> {
      v1::GoalDefined p;
      p.set_goal_id(a.id);
      p.set_title(a.title);
      auto m = parse_goal_metric(a.metric);
      if (!m) return m.status();
      p.set_metric(*m);
      p.set_target(a.target);
      p.set_baseline(a.baseline);
      p.set_autonomy(a.autonomy);
      if (!a.due.empty()) {
        auto t = parse_time(a.due, DateEdge::end_of_day);
        if (!t) return t.status();
        to_timestamp(*t, p.mutable_due());
      }
      return p;
    });
  }
  {
    struct A { Recorded r; std::string goal, id, title, metric = "customers"; std::int64_t target = 0; };
    auto a = std::make_shared<A>();
    auto* s = goal->add_subcommand("subgoal", "add a subgoal, e.g. SG1 \"Close first 3 customers\"");
    s->add_option("goal-id", a->goal)->required();
    s->add_option("subgoal-id", a->id)->required();
    s->add_option("--title", a->title)->required();
    s->add_option("--metric", a->metric, "customers|mrr|arr (default customers)");
    s->add_option("--target", a->target)->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::SubgoalDefined> {
      v1::SubgoalDefined p;
      p.set_goal_id(a.goal);
      p.set_subgoal_id(a.id);
      p.set_title(a.title);
      auto m = parse_goal_metric(a.metric);
      if (!m) return m.status();
      p.set_metric(*m);
      p.set_target(a.target);
      return p;
    });
  }
}

void add_canvas(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* canvas = app.add_subcommand("canvas", "the business canvas: assumptions and metrics");
  canvas->require_subcommand(1);
  struct A { Recorded r; std::string id, statement; int confidence = 0; };
  auto a = std::make_shared<A>();
  auto* s = canvas->add_subcommand("assume", "register an assumption, e.g. A4 at 60 %");
  s->add_option("assumption-id", a->id)->required();
  s->add_option("--statement", a->statement)->required();
  s->add_option("--confidence", a->confidence, "whole percent, 0-100")->required();
  on_record(s, g, action, a, [](const auto& a) -> Result<v1::AssumptionRegistered> {
    v1::AssumptionRegistered p;
    p.set_assumption_id(a.id);
    p.set_statement(a.statement);
    p.set_confidence(a.confidence);
    return p;
  });
}

void add_config(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* config = app.add_subcommand("config", "workspace settings (each change is an event)");
  config->require_subcommand(1);
  struct A { Recorded r; std::string key, value; };
  auto a = std::make_shared<A>();
  auto* s = config->add_subcommand("set", "e.g. config set approval-threshold 0.7");
  s->add_option("key", a->key)->required();
  s->add_option("value", a->value)->required();
  on_record(s, g, action, a, [](const auto& a) -> Result<v1::SettingChanged> {
    v1::SettingChanged p;
    p.set_key(a.key);
    p.set_value(a.value);
    return p;
  });
}

void add_analysis(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* analysis = app.add_subcommand("analysis", "abductive, inductive and counterfactual analyses linked to threads");
  analysis->require_subcommand(1);
  struct A { Recorded r; std::string id, mode, question, finding, chained; std::vector<std::string> threads; };
  auto a = std::make_shared<A>();
  auto* s = analysis->add_subcommand("record", "record an analysis of one or more threads");
  s->add_option("analysis-id", a->id)->required();
  s->add_option("--mode", a->mode, "abductive|inductive|counterfactual")->required();
  s->add_option("--question", a->question)->required();
  s->add_option("--finding", a->finding)->required();
  s->add_option("--thread", a->threads, "a stream examined (repeatable), e.g. deal-acme-corp");
  s->add_option("--chained-to", a->chained, "the causal thread it led to");
  on_record(s, g, action, a, [](const auto& a) -> Result<v1::AnalysisRecorded> {
    v1::AnalysisRecorded p;
    p.set_analysis_id(a.id);
    auto m = parse_analysis_mode(a.mode);
    if (!m) return m.status();
    p.set_mode(*m);
    p.set_question(a.question);
    p.set_finding(a.finding);
    for (const auto& t : a.threads) p.add_threads(t);
    p.set_chained_to(a.chained);
    return p;
  });
}

// ---- segment strategy -------------------------------------------------------------------------

void add_segment(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* seg = app.add_subcommand("segment", "per-segment strategy: ICP, narrative, materials");
  seg->require_subcommand(1);
  {
    struct A { Recorded r; std::string segment, file; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("icp", "record the segment's ICP from a YAML or JSON file (a new version)");
    s->add_option("segment", a->segment)->required();
    s->add_option("--file", a->file, "icp.yaml or icp.json")->required();
    add_recorded(s, a->r);
    add_encoding(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        auto icp = read_icp(a->file, a->segment, a->r.encoding);
        if (!icp) return fail(icp.status());
        return submit(g, *icp, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string segment, problem, solution, specifics; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("narrative", "record the sales narrative: problem, solution, specifics (files)");
    s->add_option("segment", a->segment)->required();
    s->add_option("--problem", a->problem, "problem-narrative.md")->required();
    s->add_option("--solution", a->solution, "solution-narrative.md")->required();
    s->add_option("--specifics", a->specifics, "specifics-narrative.md")->required();
    add_encoding(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::NarrativeWritten> {
      v1::NarrativeWritten p;
      p.set_segment(a.segment);
      for (auto [path, setter] : {std::pair{a.problem, &v1::NarrativeWritten::set_problem<const std::string&>},
                                  std::pair{a.solution, &v1::NarrativeWritten::set_solution<const std::string&>},
                                  std::pair{a.specifics, &v1::NarrativeWritten::set_specifics<const std::string&>}}) {
        auto text = read_text_file(path, a.r.encoding);
        if (!text) return text.status();
        (p.*setter)(*text);
      }
      return p;
    });
  }
  {
    struct A { Recorded r; std::string segment, kind, file, title; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("materials", "publish a sales material (a new version of it)");
    s->add_option("segment", a->segment)->required();
    s->add_option("--kind", a->kind,
                  "pitch-deck|one-pager|call-scripts|email-templates|pilot-agreement|contract-template")->required();
    s->add_option("--file", a->file, "the material (markdown)")->required();
    s->add_option("--title", a->title);
    add_encoding(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::MaterialPublished> {
      v1::MaterialPublished p;
      p.set_segment(a.segment);
      auto k = parse_material_kind(a.kind);
      if (!k) return k.status();
      p.set_kind(*k);
      auto text = read_text_file(a.file, a.r.encoding);
      if (!text) return text.status();
      p.set_content(*text);
      p.set_title(a.title.empty() ? a.kind : a.title);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string segment, kind, deal, note; bool positive = false, negative = false; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("feedback", "materials quality: a deck approved, an email answered, a proposal accepted");
    s->add_option("segment", a->segment)->required();
    s->add_option("--kind", a->kind)->required();
    s->add_flag("--positive", a->positive, "approved / responded / accepted");
    s->add_flag("--negative", a->negative, "rejected / no response / declined");
    s->add_option("--deal", a->deal);
    s->add_option("--note", a->note);
    add_recorded(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        if (a->positive == a->negative) return fail(Status::invalid("give exactly one of --positive or --negative"));
        v1::MaterialFeedback p;
        p.set_segment(a->segment);
        auto k = parse_material_kind(a->kind);
        if (!k) return fail(k.status());
        p.set_kind(*k);
        p.set_positive(a->positive);
        p.set_deal_id(a->deal);
        p.set_note(a->note);
        return submit(g, p, a->r);
      };
    });
  }
}

// ---- deal thread ------------------------------------------------------------------------------

void add_deal(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* deal = app.add_subcommand("deal", "a deal thread through its six stages");
  deal->require_subcommand(1);
  {
    struct A {
      Recorded r;
      std::string id, company, segment, source, channel, name, title, email, signal, goal, subgoal, campaign, attribution;
    };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("open", "stage 1, input: capture the lead");
    s->add_option("deal-id", a->id)->required();
    s->add_option("--company", a->company)->required();
    s->add_option("--segment", a->segment)->required();
    s->add_option("--source", a->source, "inbound|outbound|campaign")->required();
    s->add_option("--channel", a->channel, "website|referral|prospecting");
    s->add_option("--contact-name", a->name)->required();
    s->add_option("--contact-title", a->title);
    s->add_option("--contact-email", a->email)->required();
    s->add_option("--signal", a->signal, "what triggered the lead")->required();
    s->add_option("--goal", a->goal, "the goal that spawned it");
    s->add_option("--subgoal", a->subgoal);
    s->add_option("--campaign", a->campaign);
    s->add_option("--attribution", a->attribution, "content source (blog article, LinkedIn post...)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::LeadCaptured> {
      v1::LeadCaptured p;
      p.set_deal_id(a.id);
      p.set_company(a.company);
      p.set_segment(a.segment);
      auto src = parse_lead_source(a.source);
      if (!src) return src.status();
      p.set_source(*src);
      p.set_channel(!a.channel.empty() || a.campaign.empty() ? a.channel : "campaign:" + a.campaign);
      p.mutable_contact()->set_name(a.name);
      p.mutable_contact()->set_title(a.title);
      p.mutable_contact()->set_email(a.email);
      p.mutable_contact()->set_company(a.company);
      p.set_signal(a.signal);
      p.set_goal_id(a.goal);
      p.set_subgoal_id(a.subgoal);
      p.set_campaign_id(a.campaign);
      p.set_attribution(a.attribution);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, tests; int confidence = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("hypothesis", "stage 2: the canvas assumption this deal tests");
    s->add_option("deal-id", a->id)->required();
    s->add_option("--tests", a->tests, "assumption id, e.g. A4")->required();
    s->add_option("--confidence", a->confidence, "initial confidence, whole percent 0-100")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::HypothesisStated> {
      v1::HypothesisStated p;
      p.set_deal_id(a.id);
      p.set_assumption_id(a.tests);
      p.set_confidence(a.confidence);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, strategic; std::int64_t low = 0, high = 0; int hours = 0; double priority = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("implication", "stage 3: ARR potential, strategic value, cost, priority");
    s->add_option("deal-id", a->id)->required();
    s->add_option("--arr-low", a->low, "dollars")->required();
    s->add_option("--arr-high", a->high, "dollars")->required();
    s->add_option("--strategic", a->strategic, "high|medium|low")->required();
    s->add_option("--cost-hours", a->hours)->required();
    s->add_option("--priority", a->priority, "0..1")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::ImplicationAssessed> {
      v1::ImplicationAssessed p;
      p.set_deal_id(a.id);
      p.set_arr_low(a.low);
      p.set_arr_high(a.high);
      auto sv = parse_strategic(a.strategic);
      if (!sv) return sv.status();
      p.set_strategic(*sv);
      p.set_cost_hours(a.hours);
      p.set_priority(a.priority);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id; double problem = 0, authority = 0, budget = 0, urgency = 0, fit = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("qualify-score", "the sales:qualify score: five dimensions 0..1");
    s->add_option("deal-id", a->id)->required();
    s->add_option("--problem", a->problem, "problem fit (weight 0.30)")->required();
    s->add_option("--authority", a->authority, "weight 0.20")->required();
    s->add_option("--budget", a->budget, "weight 0.20")->required();
    s->add_option("--urgency", a->urgency, "weight 0.15")->required();
    s->add_option("--fit", a->fit, "solution fit (weight 0.15)")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::QualificationScored> {
      v1::QualificationScored p;
      p.set_deal_id(a.id);
      p.set_problem(a.problem);
      p.set_authority(a.authority);
      p.set_budget(a.budget);
      p.set_urgency(a.urgency);
      p.set_fit(a.fit);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, verdict, reason; std::vector<std::string> alternatives; double impact = -1; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("decide", "stage 4: qualify, defer or reject");
    s->add_option("deal-id", a->id)->required();
    s->add_option("verdict", a->verdict, "qualify|defer|reject")->required();
    s->add_option("--reason", a->reason)->required();
    s->add_option("--alternative", a->alternatives, "an alternative considered (repeatable)");
    s->add_option("--impact", a->impact, "0..1; default: the implication's priority");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::DecisionMade> {
      v1::DecisionMade p;
      p.set_deal_id(a.id);
      auto v = parse_deal_verdict(a.verdict);
      if (!v) return v.status();
      p.set_verdict(*v);
      p.set_reason(a.reason);
      for (const auto& alt : a.alternatives) p.add_alternatives(alt);
      p.set_impact(a.impact);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, by; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("approve", "a human approves a decision whose impact needs it");
    s->add_option("deal-id", a->id)->required();
    s->add_option("--by", a->by, "the approver")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::DecisionApproved> {
      v1::DecisionApproved p;
      p.set_deal_id(a.id);
      p.set_approved_by(a.by);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, type, step, outcome, reason; int from = 0, to = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("action", "stage 5: plan, start, complete, block or unblock an action");
    s->add_option("deal-id", a->id)->required();
    s->add_option("action", a->type, "sales:lead-intake|sales:qualify|sales:demo|sales:pilot|sales:close")->required();
    s->add_option("step", a->step, "plan|start|complete|block|unblock")
        ->required()
        ->check(CLI::IsMember({"plan", "start", "complete", "block", "unblock"}));
    s->add_option("--outcome", a->outcome, "with complete: the result, e.g. QUALIFIED, INTERESTED, SUCCESS, WON");
    s->add_option("--reason", a->reason, "with block: why");
    s->add_option("--day-from", a->from, "with plan: first day of the window");
    s->add_option("--day-to", a->to, "with plan: last day of the window");
    add_recorded(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        if (a->step == "plan") {
          v1::ActionPlanned p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          p.set_day_from(a->from);
          p.set_day_to(a->to);
          return submit(g, p, a->r);
        }
        if (a->step == "start") {
          v1::ActionStarted p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          return submit(g, p, a->r);
        }
        if (a->step == "complete") {
          v1::ActionCompleted p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          p.set_result(a->outcome);
          return submit(g, p, a->r);
        }
        if (a->step == "block") {
          v1::ActionBlocked p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          p.set_reason(a->reason);
          return submit(g, p, a->r);
        }
        v1::ActionUnblocked p;
        p.set_deal_id(a->id);
        p.set_action(a->type);
        return submit(g, p, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string id, outcome, reason; std::int64_t arr = 0, mrr = 0, cost = 0; int margin = 0, satisfaction = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("close", "stage 6: the outcome (won, lost, stalled); cycle time is derived");
    s->add_option("deal-id", a->id)->required();
    s->add_option("outcome", a->outcome, "won|lost|stalled")->required();
    s->add_option("--arr", a->arr, "dollars a year (won)");
    auto* mrr = s->add_option("--mrr", a->mrr, "dollars a month (default ARR / 12; 0 means no recurring revenue)");
    s->add_option("--reason", a->reason, "lost: pricing|terms|timing|competition|other");
    s->add_option("--margin", a->margin, "gross margin, percent");
    s->add_option("--cost", a->cost, "sales cost, dollars (for CAC)");
    s->add_option("--satisfaction", a->satisfaction, "customer satisfaction 1..10");
    add_recorded(s, a->r);
    s->callback([&, a, mrr] {
      const bool mrr_given = mrr->count() > 0;
      action = [&g, a, mrr_given] {
        v1::DealClosed p;
        p.set_deal_id(a->id);
        auto o = parse_outcome(a->outcome);
        if (!o) return fail(o.status());
        p.set_outcome(*o);
        p.set_arr(a->arr);
        if (mrr_given) p.set_mrr(a->mrr);
        p.set_reason(a->reason);
        p.set_margin_pct(a->margin);
        p.set_cost(a->cost);
        p.set_satisfaction(a->satisfaction);
        return submit(g, p, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string id, assumption, result, evidence; int confidence = 0; CLI::Option* conf = nullptr; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("learn", "stage 6: what the deal taught about an assumption");
    s->add_option("deal-id", a->id)->required();
    s->add_option("--assumption", a->assumption, "default: the assumption the hypothesis tested");
    s->add_option("--result", a->result, "validated|invalidated|partial")->required();
    a->conf = s->add_option("--confidence", a->confidence, "the assumption's new confidence, whole percent 0-100");
    s->add_option("--evidence", a->evidence);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::LearningRecorded> {
      v1::LearningRecorded p;
      p.set_deal_id(a.id);
      p.set_assumption_id(a.assumption);
      auto res = parse_learning_result(a.result);
      if (!res) return res.status();
      p.set_result(*res);
      if (a.conf->count()) p.set_confidence(a.confidence);
      p.set_evidence(a.evidence);
      return p;
    });
  }
}

// ---- campaign thread ------------------------------------------------------------------------

// One event per CSV row; a bad row rejects the whole file (nothing recorded).
template <class Build>
int import_csv(const GlobalOptions& g, const std::string& path, const Recorded& r, std::size_t columns,
               const std::vector<std::string>& names, Build build) {
  auto text = read_text_file(path, r.encoding);
  if (!text) return fail(text.status());
  auto rows = parse_csv(*text);
  if (!rows) return fail(Status::invalid(path + ": " + rows.status().message()));
  if (rows->empty()) return fail(Status::invalid(path + " is empty; expected a header and one row per record"));
  std::vector<Envelope> commands;
  std::string header;
  for (const auto& n : names) header += (header.empty() ? "" : ",") + n;
  for (std::size_t i = 1; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    if (row.cells.size() != columns)
      return fail(Status::invalid(path + " line " + std::to_string(row.line) + ": " + std::to_string(row.cells.size()) +
                                  " columns, expected " + std::to_string(columns) + " (" + header + "); nothing recorded"));
    for (std::size_t col = 0; col < columns; ++col)
      if (names[col].find("(optional)") == std::string::npos && row.cells[col].find_first_not_of(' ') == std::string::npos)
        return fail(Status::invalid(path + " line " + std::to_string(row.line) + ", column " + std::to_string(col + 1) + " (" +
                                    names[col] + "): empty; nothing recorded"));
    auto payload = build(row, path);
    if (!payload) return fail(payload.status());
    Recorded each = r;
    each.id = r.id.empty() ? "" : r.id + "-" + std::to_string(i);
    auto c = command_of(g, *payload, each);
    if (!c) return fail(c.status());
    if (r.id.empty()) c->set_event_id(derived_event_id(path + ":" + std::to_string(i), to_json(*payload)));
    commands.push_back(std::move(*c));
  }
  if (commands.empty()) return fail(Status::invalid(path + " has a header but no rows"));
  // One batch through the campaign's actor (or the server's): every row is decided against
  // the campaign first, so a bad row leaves nothing recorded.
  Result<Handled> h = Status::io("not recorded");
  if (!g.server.empty()) {
    h = remote_submit()(g, commands);
  } else {
    auto store = open_store(g, Access::record);
    if (!store) return fail(store.status());
    Runtime runtime(**store);
    h = runtime.submit_batch(std::move(commands));
  }
  if (!h) return fail(h.status());
  if (g.json)
    std::printf("{\"stream\":\"%s\",\"recorded\":%zu,\"idempotent_retry\":%s}\n", h->stream.c_str(), h->events.size(),
                h->idempotent_retry ? "true" : "false");
  else
    std::printf("%s %zu %s in %s\n", h->idempotent_retry ? "already recorded:" : "recorded", h->events.size(),
                h->events.front().type().c_str(), h->stream.c_str());
  return 0;
}

void add_campaign(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* camp = app.add_subcommand("campaign", "an outbound campaign thread through the same six stages");
  camp->require_subcommand(1);
  {
    struct A { Recorded r; std::string id, segment, objective, goal; int targets = 0; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("open", "stage 1: campaign goal and target list (id YYYY-MM-DD-name)");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--segment", a->segment)->required();
    s->add_option("--objective", a->objective)->required();
    s->add_option("--targets", a->targets, "size of the target list (50-100 companies)");
    s->add_option("--goal", a->goal);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignOpened> {
      v1::CampaignOpened p;
      p.set_campaign_id(a.id);
      p.set_segment(a.segment);
      p.set_objective(a.objective);
      p.set_target_list_size(a.targets);
      p.set_goal_id(a.goal);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, tests; int confidence = 0; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("hypothesis", "stage 2: what the campaign tests");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--tests", a->tests)->required();
    s->add_option("--confidence", a->confidence, "whole percent, 0-100")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignHypothesisStated> {
      v1::CampaignHypothesisStated p;
      p.set_campaign_id(a.id);
      p.set_assumption_id(a.tests);
      p.set_confidence(a.confidence);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id; int responses = 0, meetings = 0, deals = 0, hours = 0; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("implication", "stage 3: expected outcomes and cost");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--responses", a->responses)->required();
    s->add_option("--meetings", a->meetings)->required();
    s->add_option("--deals", a->deals)->required();
    s->add_option("--cost-hours", a->hours)->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignImplicationAssessed> {
      v1::CampaignImplicationAssessed p;
      p.set_campaign_id(a.id);
      p.set_expected_responses(a.responses);
      p.set_expected_meetings(a.meetings);
      p.set_expected_deals(a.deals);
      p.set_cost_hours(a.hours);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, verdict, reason; std::vector<std::string> alternatives; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("decide", "stage 4: launch, defer or cancel");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("verdict", a->verdict, "launch|defer|cancel")->required();
    s->add_option("--reason", a->reason)->required();
    s->add_option("--alternative", a->alternatives);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignDecisionMade> {
      v1::CampaignDecisionMade p;
      p.set_campaign_id(a.id);
      auto v = parse_campaign_verdict(a.verdict);
      if (!v) return v.status();
      p.set_verdict(*v);
      p.set_reason(a.reason);
      for (const auto& alt : a.alternatives) p.add_alternatives(alt);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, csv; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("prospects", "stage 5: the prospect list (CSV: company name, website, LinkedIn)");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--csv", a->csv)->required();
    add_recorded(s, a->r);
    add_encoding(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        return import_csv(g, a->csv, a->r, 3, {"company name", "website (optional)", "linkedin (optional)"},
                          [a](const CsvRow& row, const std::string&) -> Result<v1::ProspectAdded> {
                            v1::ProspectAdded p;
                            p.set_campaign_id(a->id);
                            p.set_company(row.cells[0]);
                            p.set_website(row.cells[1]);
                            p.set_linkedin(row.cells[2]);
                            return p;
                          });
      };
    });
  }
  {
    struct A { Recorded r; std::string id, csv; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("contacts", "stage 5: decision-makers (CSV: contact name, title, email, company)");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--csv", a->csv)->required();
    add_recorded(s, a->r);
    add_encoding(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        return import_csv(g, a->csv, a->r, 4, {"contact name", "title (optional)", "email", "company"},
                          [a](const CsvRow& row, const std::string& path) -> Result<v1::ContactAdded> {
                            if (row.cells[2].find('@') == std::string::npos)
                              return Status::invalid(path + " line " + std::to_string(row.line) + ", column 3 (email): '" +
                                                     row.cells[2] + "' is not an email address; nothing recorded");
                            v1::ContactAdded p;
                            p.set_campaign_id(a->id);
                            p.mutable_contact()->set_name(row.cells[0]);
                            p.mutable_contact()->set_title(row.cells[1]);
                            p.mutable_contact()->set_email(row.cells[2]);
                            p.mutable_contact()->set_company(row.cells[3]);
                            return p;
                          });
      };
    });
  }
  {
    struct A { Recorded r; std::string id; std::vector<std::string> steps; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("sequence", "stage 5: the outreach sequence, steps DAY:CHANNEL:TEMPLATE");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--step", a->steps, "e.g. 1:email:intro (repeatable)")->required();
    add_recorded(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        v1::OutreachSequenceDefined p;
        p.set_campaign_id(a->id);
        for (const auto& step : a->steps) {
          const auto c1 = step.find(':'), c2 = step.find(':', c1 == std::string::npos ? c1 : c1 + 1);
          if (c1 == std::string::npos || c2 == std::string::npos)
            return fail(Status::invalid("step '" + step + "' is not DAY:CHANNEL:TEMPLATE (e.g. 3:linkedin:connect)"));
          auto* st = p.add_steps();
          try {
            st->set_day(std::stoi(step.substr(0, c1)));
          } catch (...) {
            return fail(Status::invalid("step '" + step + "': the day is not a number"));
          }
          st->set_channel(step.substr(c1 + 1, c2 - c1 - 1));
          st->set_template_(step.substr(c2 + 1));
        }
        return submit(g, p, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string id, email; int step = 1; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("sent", "stage 5: an outreach step sent to a contact");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--email", a->email)->required();
    s->add_option("--step", a->step);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::OutreachSent> {
      v1::OutreachSent p;
      p.set_campaign_id(a.id);
      p.set_email(a.email);
      p.set_step(a.step);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, email, kind, deal; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("response", "stage 5: a response; 'interested' with --deal opens that deal");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--email", a->email)->required();
    s->add_option("--kind", a->kind, "interested|not_interested|later|bounced")->required();
    s->add_option("--deal", a->deal, "with interested: the deal id to open (source campaign)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::ResponseReceived> {
      v1::ResponseReceived p;
      p.set_campaign_id(a.id);
      p.set_email(a.email);
      p.set_kind(a.kind);
      p.set_opens_deal_id(a.deal);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, assumption, result, summary; int confidence = 0; CLI::Option* conf = nullptr; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("results", "stage 6: results and what they say about an assumption");
    s->add_option("campaign-id", a->id)->required();
    s->add_option("--assumption", a->assumption);
    s->add_option("--result", a->result, "validated|invalidated|partial")->required();
    a->conf = s->add_option("--confidence", a->confidence, "whole percent, 0-100");
    s->add_option("--summary", a->summary)->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignResultsRecorded> {
      v1::CampaignResultsRecorded p;
      p.set_campaign_id(a.id);
      p.set_assumption_id(a.assumption);
      auto res = parse_learning_result(a.result);
      if (!res) return res.status();
      p.set_result(*res);
      if (a.conf->count()) p.set_confidence(a.confidence);
      p.set_summary(a.summary);
      return p;
    });
  }
}

}  // namespace

void add_domain_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  add_goal(app, global, action);
  add_canvas(app, global, action);
  add_segment(app, global, action);
  add_deal(app, global, action);
  add_campaign(app, global, action);
  add_config(app, global, action);
  add_analysis(app, global, action);
}

}  // namespace leanos::cli
