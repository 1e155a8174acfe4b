// `leanos export DIR`: the ledger at a point in time written as a LeanOS workspace folder
// (tools/bridge/export.h renders it from the ledger's views: the data folder's, or a server's).
#include <cstdio>

#include "actors/queries.h"
#include "tools/bridge/export.h"
#include "tools/bridge/import_command.h"
#include "tools/cli/time_travel.h"

namespace leanos::cli {

namespace {

int run_export(const GlobalOptions& g, const std::string& dir, const TimeTravelOptions& time, bool force) {
  auto opened = open_ledger(g, Access::only_read);
  if (!opened) return fail(opened.status());
  Ledger& source = **opened;
  auto ask = [&](v1::QueryRequest q) {
    time.into(q);
    return source.query(q);
  };
  v1::QueryRequest q;
  time.into(q);
  auto bound = as_of_of(q);
  if (!bound) return fail(bound.status());
  bridge::LedgerAtTime ledger;
  ledger.occurred_until = bound->occurred.value_or(kEndOfTime);
  v1::QueryRequest canvas;
  canvas.mutable_canvas();
  auto c = ask(canvas);
  if (!c) return fail(c.status());
  ledger.canvas = c->canvas();
  for (const auto& a : ledger.canvas.assumptions()) {
    v1::QueryRequest why;
    why.mutable_why_canvas()->set_assumption_id(a.id());
    auto h = ask(why);
    if (!h) return fail(h.status());
    ledger.histories[a.id()] = std::move(*h->mutable_why_canvas());
  }
  v1::QueryRequest today;
  today.mutable_today();
  auto t = ask(today);
  if (!t) return fail(t.status());
  ledger.goals.assign(t->today().goals().begin(), t->today().goals().end());
  v1::QueryRequest list;
  list.mutable_deals();
  auto deals = ask(list);
  if (!deals) return fail(deals.status());
  for (const auto& d : deals->deals().deals()) {
    v1::QueryRequest one;
    one.mutable_deal()->set_deal_id(d.deal_id());
    auto thread = ask(one);
    if (!thread) return fail(thread.status());
    ledger.deals.push_back(thread->deal());
  }
  v1::QueryRequest documents;
  documents.mutable_documents()->set_content(true);
  auto docs = ask(documents);
  if (!docs) return fail(docs.status());
  ledger.documents.assign(docs->documents().documents().begin(), docs->documents().documents().end());
  v1::QueryRequest segments;
  segments.mutable_segments();
  auto strategy = ask(segments);
  if (!strategy) return fail(strategy.status());
  ledger.segments.assign(strategy->segments().segments().begin(), strategy->segments().segments().end());
  for (const auto& c : strategy->segments().campaigns()) {
    v1::QueryRequest one;
    one.mutable_campaign()->set_campaign_id(c.campaign_id());
    auto thread = ask(one);
    if (!thread) return fail(thread.status());
    ledger.campaigns.push_back(thread->campaign());
  }
  bridge::FileDates dates;
  const auto files = bridge::render_workspace(ledger, &dates);
  if (auto s = bridge::write_workspace(dir, files, force, dates); !s) return fail(s);
  if (g.json)
    out("{\"files\":%zu,\"assumptions\":%d,\"goals\":%zu,\"deals\":%zu,\"campaigns\":%zu,\"segments\":%zu,\"documents\":%zu,\"position\":%llu}\n",
        files.size(), ledger.canvas.assumptions_size(), ledger.goals.size(), ledger.deals.size(), ledger.campaigns.size(),
        ledger.segments.size(), ledger.documents.size(),
        static_cast<unsigned long long>(ledger.canvas.position()));
  else
    out("exported %zu files to %s: %d assumptions, %zu goals, %zu deal threads, %zu campaigns, %zu segment strategies, %zu documents "
        "(the log up to position %llu)\n",
        files.size(), dir.c_str(), ledger.canvas.assumptions_size(), ledger.goals.size(), ledger.deals.size(), ledger.campaigns.size(),
        ledger.segments.size(), ledger.documents.size(),
        static_cast<unsigned long long>(ledger.canvas.position()));
  return 0;
}

}  // namespace

void add_export_command(CLI::App& app, GlobalOptions& g, Action& action) {
  struct Args {
    std::string dir;
    bool force = false;
    TimeTravelOptions time;
  };
  auto a = std::make_shared<Args>();
  auto* s = app.add_subcommand("export", "write the ledger as a LeanOS workspace folder (canvas, goals, deal and campaign threads, ICPs, narratives, documents), at any point in time");
  s->add_option("dir", a->dir, "the folder to write (new or empty)")->required();
  s->add_flag("--force", a->force, "write into a folder that has files (files of the same name are replaced)");
  add_time_travel(s, a->time);
  s->callback([&g, &action, a] { action = [&g, a] { return run_export(g, a->dir, a->time, a->force); }; });
}

}  // namespace leanos::cli
