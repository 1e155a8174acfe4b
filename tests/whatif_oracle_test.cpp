// What if against an oracle: for random histories of deals (leads, hypotheses of A4, outcomes
// and learnings toward one goal, recorded in random order of business time) and random deals
// left out, the branch's views equal those of a fresh ledger built from the same commands
// without the left-out deals' — through the same rules, folds and process managers.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "actors/ledger.h"
#include "actors/ledger_reader.h"
#include "actors/whatif.h"
#include "tests/builders.h"
#include "tests/support.h"

using namespace leanos;

namespace {

std::unique_ptr<store::EventStore> open_store(const test::TempDir& dir) {
  store::StoreOptions o;
  o.master_key_file = dir.sub("master-key");
  auto s = store::EventStore::open(dir.sub("data"), o);
  REQUIRE_MESSAGE(s.is_ok(), (s.is_ok() ? "" : s.status().to_string()));
  return std::move(*s);
}

struct Command {
  std::string deal;  // "" for the workspace's
  Envelope envelope;
};

std::string day(int n) { return format_time(parse_time("2026-01-01").value() + static_cast<Micros>(n) * 86'400'000'000LL); }

// One deal's thread from its lead (day `start`) to its learning, each stage a few days on.
std::vector<Command> thread(const std::string& id, int start, std::mt19937& rng, int& serial) {
  std::vector<Command> out;
  int d = start;
  auto add = [&](const google::protobuf::Message& p) {
    d += 1 + static_cast<int>(rng() % 4);
    out.push_back({id, test::command(p, day(d), id + "-" + std::to_string(++serial))});
  };
  auto lead = test::lead_captured(id);
  lead.set_goal_id("g-mrr");
  lead.set_segment(rng() % 2 ? "smb" : "enterprise");
  add(lead);
  v1::HypothesisStated h;
  h.set_deal_id(id);
  h.set_assumption_id("A4");
  h.set_confidence(50 + static_cast<int>(rng() % 40));
  add(h);
  v1::ImplicationAssessed i;
  i.set_deal_id(id);
  i.set_arr_low(12'000);
  i.set_arr_high(60'000);
  i.set_strategic(v1::MEDIUM);
  i.set_cost_hours(10);
  i.set_priority(0.5);
  add(i);
  v1::DecisionMade m;
  m.set_deal_id(id);
  m.set_verdict(v1::QUALIFY);
  m.set_reason("fits");
  m.set_impact(0.3);
  add(m);
  if (rng() % 4 == 0) return out;  // still open
  v1::DealClosed c;
  c.set_deal_id(id);
  const bool won = rng() % 3 != 0;
  c.set_outcome(won ? v1::WON : v1::LOST);
  if (won) c.set_arr(12'000 * (1 + static_cast<int>(rng() % 5)));
  else c.set_reason("pricing");
  add(c);
  v1::LearningRecorded l;
  l.set_deal_id(id);
  l.set_assumption_id("A4");
  l.set_result(won ? v1::VALIDATED : v1::INVALIDATED);
  if (won) l.set_confidence(60 + static_cast<int>(rng() % 40));
  l.set_evidence("what the deal showed");
  add(l);
  return out;
}

std::vector<Command> history(std::mt19937& rng) {
  std::vector<Command> out;
  int serial = 0;
  v1::GoalDefined g;
  g.set_goal_id("g-mrr");
  g.set_title("Reach $10K MRR");
  g.set_metric(v1::MRR);
  g.set_target(10'000);
  out.push_back({"", test::command(g, day(0), "goal")});
  v1::AssumptionRegistered a;
  a.set_assumption_id("A4");
  a.set_statement("Enterprise customers prefer white-label");
  a.set_confidence(60);
  out.push_back({"", test::command(a, day(0), "a4")});
  const int deals = 3 + static_cast<int>(rng() % 5);
  std::vector<std::vector<Command>> threads;
  for (int k = 0; k < deals; ++k) threads.push_back(thread("deal-" + std::to_string(k), 1 + static_cast<int>(rng() % 60), rng, serial));
  // Recorded interleaved, thread by thread in order (a thread's stages in sequence), so the
  // log's recording order is not business-time order.
  std::vector<std::size_t> next(threads.size(), 0);
  for (bool left = true; left;) {
    left = false;
    for (std::size_t t = 0; t < threads.size(); ++t)
      if (next[t] < threads[t].size() && rng() % 2) out.push_back(threads[t][next[t]++]);
    for (std::size_t t = 0; t < threads.size(); ++t) left = left || next[t] < threads[t].size();
  }
  return out;
}

void record(LocalLedger& ledger, const std::vector<Command>& commands, const std::set<std::string>& without) {
  for (const auto& c : commands) {
    if (without.count(c.deal)) continue;
    auto h = ledger.submit({c.envelope});
    INFO(c.envelope.type(), " ", c.deal, ": ", h.status().to_string());
    REQUIRE(h.is_ok());
  }
}

}  // namespace

TEST_CASE("a branch without some deals equals a ledger built without them, view by view, at any date") {
  std::uint64_t seed = std::random_device{}();
  if (const char* given = std::getenv("LEANOS_TEST_SEED")) seed = std::strtoull(given, nullptr, 10);
  MESSAGE("LEANOS_TEST_SEED=" << seed);
  std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
  const Micros clock = parse_time("2026-06-01").value();
  std::size_t branches_unlike_reality = 0;  // the test tests something: leaving deals out changes views
  for (int round = 0; round < 4; ++round) {
    const auto commands = history(rng);
    std::set<std::string> deals, without;
    for (const auto& c : commands)
      if (!c.deal.empty()) deals.insert(c.deal);
    for (const auto& d : deals)
      if (rng() % 3 == 0) without.insert(d);
    if (without.empty()) without.insert(*deals.begin());
    test::TempDir full_dir, oracle_dir;
    LocalLedger full(open_store(full_dir), LocalLedger::Start::on_first_command, [clock] { return clock; });
    LocalLedger oracle(open_store(oracle_dir), LocalLedger::Start::on_first_command, [clock] { return clock; });
    record(full, commands, {});
    record(oracle, commands, without);
    // Snapshots every few events, by position and by business time, core and full: a branch
    // starts from one before its earliest change (the fold of the rest is then the tail's).
    for (bool deals : {true, false}) {
      LedgerOptions often;
      often.snapshot_every = 7;
      often.core_snapshot_every = 5;
      often.need_deals = deals;
      REQUIRE(read_ledger(full.store(), AsOf{}, often).is_ok());
    }
    v1::WhatIfRequest request;
    for (const auto& d : without) request.add_without()->set_deal_id(d);
    for (const std::string as_of : {"2026-01-20", "2026-02-15", "2026-03-20", ""}) {
      std::vector<v1::QueryRequest> queries(5);
      queries[0].mutable_canvas();
      queries[1].mutable_goal()->set_goal_id("g-mrr");
      queries[2].mutable_metrics();
      queries[3].mutable_pipeline();
      queries[4].mutable_deals();
      for (auto& q : queries) {
        q.set_as_of(as_of);
        *request.mutable_query() = q;
        auto branch = full.what_if(request);
        REQUIRE_MESSAGE(branch.is_ok(), branch.status().to_string());
        auto expected = oracle.query(q);
        REQUIRE_MESSAGE(expected.is_ok(), expected.status().to_string());
        if (!branch->differences().empty()) ++branches_unlike_reality;
        const auto diffs = differences(*expected, branch->branch());
        std::string told;
        for (const auto& d : diffs) told += d.path() + ": oracle " + d.reality() + ", branch " + d.branch() + "\n";
        CHECK_MESSAGE(diffs.empty(), "round " << round << ", as of '" << as_of << "', " << q.ShortDebugString() << "\n" << told);
      }
    }
  }
  CHECK(branches_unlike_reality > 10);
}
