// The query commands: each fills a QueryRequest from its arguments and hands it to query()
// (tools/cli/cli.h), which answers it with the query layer (actors/queries.h) or the server and
// prints the typed view. Also `replay`. Projection queries take --as-of (business time),
// --known-at (what the store had recorded) and --at-position (a log prefix).
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

#include "actors/ledger_reader.h"
#include "actors/process_managers.h"
#include "projections/metrics.h"
#include "tools/cli/time_travel.h"
#include "tools/cli/arguments.h"
#include "tools/cli/cli.h"
#include "tools/cli/view_text.h"

namespace leanos::cli {

void TimeTravelOptions::into(v1::QueryRequest& q) const {
  q.set_as_of(as_of);
  q.set_known_at(known_at);
  if (position_opt->count() > 0) q.set_at_position(at_position);
}

void add_time_travel(CLI::App* sub, TimeTravelOptions& t) {
  sub->add_option("--as-of", t.as_of, "the business timeline up to DATE: events that occurred on or before it (a date means its end, UTC)");
  sub->add_option("--known-at", t.known_at, "as the store knew it at DATE: events recorded by then (audit-grade); combines with --as-of");
  t.position_opt = sub->add_option("--at-position", t.at_position, "fold the log up to position N");
}

namespace {


// ---- replay ----------------------------------------------------------------------------------

int replay(const GlobalOptions& g, bool process_managers, bool write_snapshots) {
  auto store = open_store(g);
  if (!store) return fail(store.status());
  if (process_managers) {
    auto written = catch_up_process_managers(**store);
    if (!written) return fail(written.status());
    std::fprintf(stderr, "process managers: %zu derived event(s) were missing and are now appended\n", *written);
  }
  // The snapshots of an earlier build's projections: nothing reads them again.
  if (write_snapshots)
    if (auto s = (*store)->drop_snapshots_except(projections::snapshot_names()); !s) return fail(s);
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

}  // namespace

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
    auto content = std::make_shared<bool>(false);
    auto* s = app.add_subcommand("documents", "the workspace files kept verbatim (canvas sections, ICPs, narratives), as of any time");
    s->add_flag("--content", *content, "print each document's text too");
    register_query(s, [content](v1::QueryRequest& q) { q.mutable_documents()->set_content(*content); });
  }
  {
    auto name = std::make_shared<std::string>();
    auto* s = app.add_subcommand("scenarios", "the saved what-if scenarios (whatif --save NAME), or one name's versions; re-run one with whatif VIEW --scenario NAME");
    s->add_option("name", *name, "one scenario: its every version");
    register_query(s, [name](v1::QueryRequest& q) { q.mutable_scenarios()->set_name(*name); });
  }
  register_query(find("segment")->add_subcommand("show", "each segment's ICP and narrative in force, and its campaigns, as of any time"),
                 [](v1::QueryRequest& q) { q.mutable_segments(); });
  {
    auto id = std::make_shared<std::string>();
    auto* s = find("goal")->add_subcommand("show", "a goal: current vs target, subgoals, milestones");
    s->add_option("goal-id", *id, "the goal, e.g. g-mrr-50k")->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_goal()->set_goal_id(*id); });
  }
  {
    // The goals as today's report gives them (the dashboard's /api/v1/goals): the same query.
    auto t = std::make_shared<TimeTravelOptions>();
    auto* s = find("goal")->add_subcommand("list", "every goal defined by then: progress, risk, due date, subgoals");
    add_time_travel(s, *t);
    s->callback([&, t] {
      action = [&g, t] {
        v1::QueryRequest q;
        q.mutable_today();
        t->into(q);
        auto answer = ask(g, q);
        if (!answer) return fail(answer.status());
        if (g.json) {
          const auto j = nlohmann::ordered_json::parse(view_json(*answer));
          out("%s\n", nlohmann::ordered_json{{"goals", j["goals"]}}.dump().c_str());
        } else {
          out("%s", goals_text(answer->today()).c_str());
        }
        return 0;
      };
    });
  }
  {
    auto f = std::make_shared<projections::DealFilter>();
    auto* s = app.add_subcommand("metrics", "the seed's sales performance metrics, with targets");
    s->add_option("--segment", f->segment, "only this segment's deals");
    s->add_option("--goal", f->goal, "only the deals of this goal");
    s->add_option("--campaign", f->campaign, "only the deals of this campaign");
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
    s->add_option("--segment", *segment, "only this segment's deals");
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
    s->add_option("deal-id", *id, "the deal, e.g. acme-corp")->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_audit()->set_deal_id(*id); }, false);
  }
  {
    auto id = std::make_shared<std::string>();
    auto* w = app.add_subcommand("why", "walk back from a canvas value to the deals that caused it");
    w->require_subcommand(1);
    auto* s = w->add_subcommand("canvas", "every confidence change of an assumption and its cause");
    s->add_option("assumption-id", *id, "the assumption, e.g. A4")->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_why_canvas()->set_assumption_id(*id); }, false);
  }
  {
    auto f = std::make_shared<v1::DealListQuery>();
    auto* s = find("deal")->add_subcommand("list", "deals: id, company, stage, status, days in stage, what is next");
    s->add_option_function<std::string>("--stage", [f](const std::string& v) { f->set_stage(v); },
                                        "input, hypothesis, implication, decision, actions or learning (or 1..6)");
    s->add_option_function<std::string>("--segment", [f](const std::string& v) { f->set_segment(v); }, "only this segment's deals");
    s->add_option_function<std::string>(
         "--status", [f](const std::string& v) { f->set_status(static_cast<v1::DealStatus>(*from_word(v1::DealStatus_descriptor(), v))); },
         "open (stalled by inactivity included), won, lost, stalled or rejected")
        ->check(enum_words(v1::DealStatus_descriptor()));
    s->add_option_function<std::string>("--goal", [f](const std::string& v) { f->set_goal(v); }, "only the deals of this goal");
    register_query(s, [f](v1::QueryRequest& q) { *q.mutable_deals() = *f; });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* s = find("deal")->add_subcommand("show", "the thread: its six stages as they stand, with dates");
    s->add_option("deal-id", *id, "the deal, e.g. acme-corp")->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_deal()->set_deal_id(*id); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* s = find("campaign")->add_subcommand("show", "the campaign thread's six stages");
    s->add_option("campaign-id", *id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    register_query(s, [id](v1::QueryRequest& q) { q.mutable_campaign()->set_campaign_id(*id); });
  }
}

}  // namespace leanos::cli
