// `leanos goal|canvas|config|analysis …`: the workspace's goals, assumptions, settings and
// analyses.
#include <cstdio>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "tools/cli/cli.h"
#include "tools/cli/recording.h"

namespace leanos::cli {

// ---- goal, canvas, config, analysis, marketing ---------------------------------------------

namespace {

void add_goal(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* goal = app.add_subcommand("goal", "goals and subgoals that spawn deals");
  goal->require_subcommand(1);
  {
    struct A { Recorded r; std::string id, title, metric, due, autonomy = "hybrid"; std::int64_t target = 0, baseline = 0; };
    auto a = std::make_shared<A>();
    auto* s = goal->add_subcommand("define", "define a goal, e.g. g-mrr-50k \"Reach $50K MRR by Q2\"");
    s->add_option("goal-id", a->id, "the goal's id, e.g. g-mrr-50k")->required();
    s->add_option("--title", a->title, "in words, e.g. \"Reach $50K MRR by Q2\"")->required();
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
    s->add_option("goal-id", a->goal, "the goal it belongs to")->required();
    s->add_option("subgoal-id", a->id, "the subgoal's id, e.g. SG1")->required();
    s->add_option("--title", a->title, "in words, e.g. \"Reach $50K MRR by Q2\"")->required();
    s->add_option("--metric", a->metric, "customers|mrr|arr (default customers)");
    s->add_option("--target", a->target, "dollars or a count")->required();
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
  s->add_option("assumption-id", a->id, "the assumption's id, e.g. A4")->required();
  s->add_option("--statement", a->statement, "what is assumed, e.g. \"Enterprise customers prefer white-label\"")->required();
  s->add_option("--confidence", a->confidence, "whole percent, 0-100")->required();
  on_record(s, g, action, a, [](const auto& a) -> Result<v1::AssumptionRegistered> {
    v1::AssumptionRegistered p;
    p.set_assumption_id(a.id);
    p.set_statement(a.statement);
    p.set_confidence(a.confidence);
    return p;
  });
  struct R { Recorded r; std::string id, status, evidence; int confidence = 0; };
  auto r = std::make_shared<R>();
  auto* v = canvas->add_subcommand("revise", "restate an assumption's confidence outside a deal's learning (a canvas review)");
  v->add_option("assumption-id", r->id, "the assumption, e.g. A4")->required();
  v->add_option("--confidence", r->confidence, "whole percent, 0-100")->required();
  v->add_option("--status", r->status, "untested, testing, validated, challenged, invalidated (default: as it is)");
  v->add_option("--evidence", r->evidence, "why: the review, the file, the source");
  on_record(v, g, action, r, [](const auto& r) -> Result<v1::AssumptionRevised> {
    v1::AssumptionRevised p;
    p.set_assumption_id(r.id);
    p.set_confidence(r.confidence);
    if (!r.status.empty()) {
      auto s = parse_assumption_status(r.status);
      if (!s) return s.status();
      p.set_status(*s);
    }
    p.set_evidence(r.evidence);
    return p;
  });
}

void add_config(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* config = app.add_subcommand("config", "workspace settings (each change is an event)");
  config->require_subcommand(1);
  struct A { Recorded r; std::string key, value; };
  auto a = std::make_shared<A>();
  auto* s = config->add_subcommand("set", "e.g. config set approval-threshold 0.7");
  s->add_option("key", a->key, "the setting: approval-threshold")->required();
  s->add_option("value", a->value, "its value, e.g. 0.7")->required();
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
  s->add_option("analysis-id", a->id, "the analysis's id, e.g. why-enterprise-stalls")->required();
  s->add_option("--mode", a->mode, "abductive|inductive|counterfactual")->required();
  s->add_option("--question", a->question, "what was asked")->required();
  s->add_option("--finding", a->finding, "what was found")->required();
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

}  // namespace

void add_workspace_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  add_goal(app, g, action);
  add_canvas(app, g, action);
  add_config(app, g, action);
  add_analysis(app, g, action);
}

}  // namespace leanos::cli
