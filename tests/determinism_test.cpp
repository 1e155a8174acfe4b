// Projections are pure folds: full replay, incremental folding and snapshot + tail give
// byte-identical state, at many positions of randomly generated valid histories.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <limits>
#include <map>
#include <optional>

#include "actors/files.h"
#include "actors/ledger_reader.h"
#include "projections/metrics.h"
#include "projections/views.h"
#include "tests/history.h"
#include "tests/support.h"

using namespace leanos;

namespace {

// Full snapshots every 97 events and core snapshots every 31, written by one pass.
void write_snapshots(store::EventStore& es) {
  LedgerOptions write;
  write.snapshot_every = 97;
  write.core_snapshot_every = 31;
  REQUIRE(read_ledger(es, AsOf{}, write).is_ok());
}

// The metrics from the aggregates (`a`) equal those computed deal by deal (`b`).
void same_metrics(const projections::PipelineMetrics& a, const projections::PipelineMetrics& b) {
  CHECK(a.deals == b.deals);
  CHECK(a.open == b.open);
  CHECK(a.qualified == b.qualified);
  CHECK(a.won == b.won);
  CHECK(a.lost == b.lost);
  CHECK(a.customers == b.customers);
  CHECK(a.arr == b.arr);
  CHECK(a.mrr == b.mrr);
  const std::pair<const std::optional<double>*, const std::optional<double>*> ratios[] = {
      {&a.close_rate, &b.close_rate},       {&a.win_rate, &b.win_rate},
      {&a.pilot_conversion, &b.pilot_conversion}, {&a.demo_booking_rate, &b.demo_booking_rate},
      {&a.lead_response_hours, &b.lead_response_hours}, {&a.avg_cycle_days, &b.avg_cycle_days},
      {&a.cac, &b.cac}};
  for (const auto& [x, y] : ratios) {
    CHECK(x->has_value() == y->has_value());
    if (*x && *y) CHECK(**x == doctest::Approx(**y));
  }
}

// The ledger folded from the log alone: no snapshot read, none written.
LedgerOptions from_log() {
  LedgerOptions full;
  full.use_snapshots = false;
  full.write_snapshots = false;
  return full;
}

}  // namespace

TEST_CASE("full replay, incremental folding and snapshot+tail give identical state on random histories") {
  for (std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{std::random_device{}()}}) {
    INFO("seed " << seed);
    // Seed 3: learnings recorded again, corrections among them (dated at the learning they
    // replace: the folds agree, though fewer position snapshots can serve).
    const double relearn = seed == 3 ? 0.1 : 0;
    test::TempDir dir;
    store::StoreOptions relaxed;
    relaxed.durability = store::Durability::relaxed;  // a test of folds, not of fsync
    auto opened = store::EventStore::open(dir.path(), relaxed);
    REQUIRE(opened.is_ok());
    auto& es = **opened;
    std::mt19937_64 rng(seed);
    std::map<std::uint64_t, std::string> incremental;  // position -> state bytes
    test::HistoryOptions options;
    options.commands = 2500;
    options.relearn_probability = relearn;
    test::generate_history(es, rng, options,
                           [&](const v1::LedgerView& v) { incremental[v.position()] = projections::serialize(v); });
    REQUIRE(es.last_position() > 1000);
    if (relearn > 0) {
      int corrections = 0;
      REQUIRE(es.scan(1, es.last_position(), [&](const Envelope& e) {
                  corrections += e.has_learning_recorded() && !e.learning_recorded().corrects_event_id().empty();
                  return true;
                }).is_ok());
      CHECK(corrections > 0);
    }
    REQUIRE(es.verify().clean());

    write_snapshots(es);

    const LedgerOptions full = from_log();
    LedgerOptions from_snapshots;
    from_snapshots.write_snapshots = false;
    LedgerOptions from_core = from_snapshots;
    from_core.need_deals = false;

    int compared = 0;
    std::uniform_int_distribution<std::size_t> pick(0, incremental.size() - 1);
    for (int k = 0; k < 60; ++k) {
      auto it = std::next(incremental.begin(), static_cast<long>(pick(rng)));
      const AsOf at{.position = it->first};
      auto replayed = read_ledger(es, at, full);
      auto snapped = read_ledger(es, at, from_snapshots);
      REQUIRE(replayed.is_ok());
      REQUIRE(snapped.is_ok());
      INFO("position " << it->first << ", snapshot at " << snapped->snapshot_position);
      CHECK(projections::serialize(replayed->view) == it->second);
      CHECK(projections::serialize(snapped->view) == it->second);
      compared += snapped->snapshot_position > 0;
      // Core snapshot + tail with finished deals rebuilt on demand: the same core, byte for byte.
      auto core = read_ledger(es, at, from_core);
      REQUIRE(core.is_ok());
      CHECK(projections::serialize_core(core->view) == projections::serialize_core(replayed->view));
      // The views answered from the core (open deals, aggregates, late inputs, segments) equal
      // those from every deal, for a "now" at the fold's latest date and a few days on.
      const auto& c = core->view;
      const auto& r = replayed->view;
      CHECK(projections::segments_view(c).ShortDebugString() == projections::segments_view(r).ShortDebugString());
      CHECK(projections::canvas_view(c).ShortDebugString() == projections::canvas_view(r).ShortDebugString());
      for (Micros now : {r.max_occurred_at(), r.max_occurred_at() + 3 * kMicrosPerDay}) {
        CHECK(projections::today_view(c, now).ShortDebugString() == projections::today_view(r, now).ShortDebugString());
        CHECK(projections::pipeline_view(c, now, "").ShortDebugString() ==
              projections::pipeline_view(r, now, "").ShortDebugString());
        // Deals listed by a status only deals in play have: from the core too.
        for (auto status : {v1::DEAL_OPEN, v1::DEAL_STALLED, v1::DEAL_REJECTED}) {
          projections::DealListFilter f;
          f.status = status;
          CHECK(projections::deal_list(c, now, f).ShortDebugString() == projections::deal_list(r, now, f).ShortDebugString());
        }
        for (const auto& [id, g] : r.goals())
          CHECK(projections::goal_view(c, c.goals().at(id), now).ShortDebugString() ==
                projections::goal_view(r, g, now).ShortDebugString());
      }
      // The aggregates give the metrics computed deal by deal.
      for (const char* segment : {"", "smb", "enterprise"}) {
        projections::DealFilter f;
        f.segment = segment;
        same_metrics(projections::pipeline_metrics(replayed->view, f), projections::pipeline_metrics_from_deals(replayed->view, f));
      }
    }
    if (relearn == 0) CHECK(compared > 30);  // most comparisons started from a snapshot
    // The latest state, three ways.
    auto latest = read_ledger(es, AsOf{}, full);
    REQUIRE(latest.is_ok());
    CHECK(projections::serialize(latest->view) == incremental.rbegin()->second);
  }
}

// Metrics filtered by any combination of goal, segment and campaign come from the fold's
// aggregates (no deal in memory: an as-of query of a large history needs no full snapshot),
// and equal the same definitions computed deal by deal, including after a corrected lead
// moves a deal to another segment.
TEST_CASE("metrics for any combination of goal, segment and campaign are the aggregates, equal to those computed deal by deal") {
  std::mt19937_64 rng(11);
  const std::vector<std::string> goals{"", "g-a", "g-b"}, segments{"smb", "enterprise"}, campaigns{"", "c-1", "c-2"};
  projections::LedgerView view = projections::empty_ledger();
  std::uint64_t position = 0;
  Micros at = parse_time("2026-01-05").value();
  auto fold = [&](const google::protobuf::Message& payload, const std::string& corrects = "") {
    at += kMicrosPerHour;
    Envelope e = make_event(payload, at);
    e.set_position(++position);
    e.set_event_id("e" + std::to_string(position));
    e.set_corrects_event_id(corrects);
    projections::apply(view, e);
    return e.event_id();
  };
  auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
  for (int n = 0; n < 60; ++n) {
    const std::string id = "d" + std::to_string(n);
    v1::LeadCaptured l;
    l.set_deal_id(id);
    l.set_company("Company " + id);
    l.set_segment(pick(segments));
    l.set_source(v1::INBOUND);
    l.set_goal_id(pick(goals));
    l.set_campaign_id(pick(campaigns));
    const std::string lead = fold(l);
    if (n % 7 == 0) {  // a corrected lead: another segment
      l.set_segment(l.segment() == "smb" ? "enterprise" : "smb");
      fold(l, lead);
    }
    if (rng() % 4 == 0) continue;  // still at its input
    v1::DecisionMade d;
    d.set_deal_id(id);
    d.set_verdict(v1::QUALIFY);
    fold(d);
    if (rng() % 3 == 0) continue;  // open
    v1::DealClosed c;
    c.set_deal_id(id);
    c.set_outcome(rng() % 3 ? v1::WON : v1::LOST);
    if (c.outcome() == v1::WON) {
      c.set_arr(12000 * static_cast<std::int64_t>(rng() % 9 + 1));
      c.set_mrr(c.arr() / 12);
      c.set_cycle_days(static_cast<int>(rng() % 40 + 5));
    }
    fold(c);
    v1::LearningRecorded learned;  // finished: no longer in play, so not in the core
    learned.set_deal_id(id);
    learned.set_assumption_id("A1");
    learned.set_result(c.outcome() == v1::WON ? v1::VALIDATED : v1::INVALIDATED);
    fold(learned);
  }
  int compared = 0;
  for (const auto& goal : goals)
    for (const auto& segment : {std::string(), segments[0], segments[1]})
      for (const auto& campaign : campaigns) {
        const projections::DealFilter f{.segment = segment, .goal = goal, .campaign = campaign};
        INFO("goal '" << goal << "' segment '" << segment << "' campaign '" << campaign << "'");
        const auto b = projections::pipeline_metrics_from_deals(view, f);
        same_metrics(projections::pipeline_metrics(view, f), b);
        compared += b.deals > 0;
      }
  CHECK(compared > 20);  // most of the 27 combinations hold deals
  // No deal in memory: the same numbers from the core alone.
  projections::LedgerView core;
  REQUIRE(projections::parse(projections::serialize_core(view), &core));
  REQUIRE(core.deals().size() < view.deals().size());
  int won = 0;
  for (const auto& goal : goals)
    for (const auto& segment : segments)
      for (const auto& campaign : campaigns) {
        const projections::DealFilter f{.segment = segment, .goal = goal, .campaign = campaign};
        INFO("goal '" << goal << "' segment '" << segment << "' campaign '" << campaign << "'");
        const auto from_core = projections::pipeline_metrics(core, f);
        const auto every_deal = projections::pipeline_metrics_from_deals(view, f);
        CHECK(from_core.won == every_deal.won);
        CHECK(from_core.arr == every_deal.arr);
        won += every_deal.won > 0 && !goal.empty() && !campaign.empty();
      }
  CHECK(won > 3);  // finished wins filtered by all three dimensions
}

// A store for tests of folds, not of fsync.
std::unique_ptr<store::EventStore> open_relaxed(const test::TempDir& dir) {
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  auto opened = store::EventStore::open(dir.path(), relaxed);
  REQUIRE(opened.is_ok());
  return std::move(*opened);
}

// The reference, written apart from the production fold's reader: every event recorded by
// position `known` that occurred by `t`, sorted by (occurred_at, position), folded.
v1::LedgerView reference_fold(const std::vector<Envelope>& all, Micros t, std::uint64_t known) {
  std::vector<const Envelope*> chosen;
  for (const auto& e : all)
    if (e.position() <= known && from_timestamp(e.occurred_at()) <= t) chosen.push_back(&e);
  std::sort(chosen.begin(), chosen.end(), [](const Envelope* a, const Envelope* b) {
    const Micros x = from_timestamp(a->occurred_at()), y = from_timestamp(b->occurred_at());
    return x != y ? x < y : a->position() < b->position();
  });
  auto view = projections::empty_ledger();
  for (const auto* e : chosen) projections::apply(view, *e);
  return view;
}

TEST_CASE("both time axes on a history recorded out of order equal the business-time reference fold") {
  test::TempDir dir;
  auto opened = open_relaxed(dir);
  auto& es = *opened;
  std::mt19937_64 rng(7);
  test::HistoryOptions options;
  options.commands = 1000;
  options.backdate_probability = 0.3;
  std::map<std::uint64_t, std::string> incremental;  // the process managers' own view, per commit
  test::generate_history(es, rng, options, [&](const v1::LedgerView& v) { incremental[v.position()] = projections::serialize(v); });
  LedgerOptions write;
  write.snapshot_every = 101;
  write.core_snapshot_every = 37;
  REQUIRE(read_ledger(es, AsOf{}, write).is_ok());
  auto all = es.read_all(1, 1'000'000);
  REQUIRE(all.is_ok());
  const std::uint64_t end = all->back().position();
  const Micros first = from_timestamp(all->front().occurred_at());
  Micros last = first;
  for (const auto& e : *all) last = std::max(last, from_timestamp(e.occurred_at()));
  int late = 0;
  for (const auto& e : *all) late += es.late_events(std::numeric_limits<Micros>::min(), from_timestamp(e.occurred_at()), e.position() - 1, e.position())->size();
  MESSAGE(late << " of " << end << " events are backdated");
  CHECK(late > 50);
  std::uniform_int_distribution<Micros> when(first - kMicrosPerDay, last + kMicrosPerDay);
  std::uniform_int_distribution<std::uint64_t> known(1, end);
  LedgerOptions from_snapshots, replay;
  from_snapshots.write_snapshots = false;
  replay.use_snapshots = false;
  replay.write_snapshots = false;
  int from_snapshot = 0, by_time = 0;
  for (int k = 0; k < 60; ++k) {
    const Micros t = when(rng);
    const std::uint64_t r = k % 3 == 0 ? end : known(rng);
    const auto expected = projections::serialize(reference_fold(*all, t, r));
    INFO("as of " << format_time(t) << " known at position " << r);
    // Everything known: no position bound, so snapshots keyed by business time may serve.
    const AsOf at = r == end ? AsOf{.occurred = t} : AsOf{.occurred = t, .position = r};
    auto snapped = read_ledger(es, at, from_snapshots);
    REQUIRE(snapped.is_ok());
    CHECK(projections::serialize(snapped->view) == expected);
    from_snapshot += snapped->snapshot_position > 0;
    by_time += snapped->time_snapshot;
    auto replayed = read_ledger(es, at, replay);
    REQUIRE(replayed.is_ok());
    CHECK(projections::serialize(replayed->view) == expected);
    // Known-at by recording time: the same as the position it had reached.
    const Micros recorded = from_timestamp((*all)[r - 1].recorded_at());
    std::uint64_t reached = r;
    while (reached < end && from_timestamp((*all)[reached].recorded_at()) <= recorded) ++reached;
    auto by_time = read_ledger(es, AsOf{.occurred = t, .recorded = recorded}, from_snapshots);
    REQUIRE(by_time.is_ok());
    CHECK(projections::serialize(by_time->view) == projections::serialize(reference_fold(*all, t, reached)));
  }
  CHECK(from_snapshot > 10);  // snapshots were used, and were valid
  CHECK(by_time > 5);         // those keyed by business time too
  // The latest state three ways: replay, snapshot + tail, and the process managers' incremental view.
  const auto expected = projections::serialize(reference_fold(*all, std::numeric_limits<Micros>::max(), end));
  CHECK(projections::serialize(read_ledger(es, AsOf{}, replay)->view) == expected);
  CHECK(projections::serialize(read_ledger(es, AsOf{}, from_snapshots)->view) == expected);
  CHECK(incremental.rbegin()->second == expected);
}

TEST_CASE("documents and files recorded late leave snapshots usable: folded on top, the same state as a replay") {
  test::TempDir dir;
  auto opened = open_relaxed(dir);
  auto& es = *opened;
  std::mt19937_64 rng(11);
  test::HistoryOptions options;
  options.commands = 600;
  options.backdate_probability = 0.2;
  test::generate_history(es, rng, options, [](const v1::LedgerView&) {});
  auto all = es.read_all(1, 1'000'000);
  REQUIRE(all.is_ok());
  Micros first = from_timestamp(all->front().occurred_at()), last = first;
  for (const auto& e : *all) last = std::max(last, from_timestamp(e.occurred_at()));
  LedgerOptions write;
  write.snapshot_every = 101;
  write.core_snapshot_every = 37;
  REQUIRE(read_ledger(es, AsOf{}, write).is_ok());
  // An import of files dated long before what the log holds: documents (two versions of one
  // path, the earlier recorded last), file versions, the import's own record.
  std::uniform_int_distribution<Micros> when(first, last);
  for (int k = 0; k < 40; ++k) {
    v1::DocumentWritten d;
    d.set_path("notes/n" + std::to_string(k % 7) + ".md");
    d.set_content("version " + std::to_string(k));
    v1::FileVersion f;
    f.set_path(d.path());
    f.set_kind(v1::FILE_REGULAR);
    f.set_sha256(std::string(64, 'a'));
    v1::SourceImported s;
    s.set_source("git");
    s.set_revision(std::to_string(k));
    REQUIRE(es.append("documents", store::ExpectedVersion::any(), {make_event(d, when(rng))}).is_ok());
    REQUIRE(es.append("files", store::ExpectedVersion::any(), {make_event(f, when(rng))}).is_ok());
    REQUIRE(es.append("imports", store::ExpectedVersion::any(), {make_event(s, when(rng))}).is_ok());
  }
  all = es.read_all(1, 1'000'000);
  REQUIRE(all.is_ok());
  const std::uint64_t end = all->back().position();
  LedgerOptions from_snapshots, replay;
  from_snapshots.write_snapshots = false;
  replay.use_snapshots = false;
  replay.write_snapshots = false;
  // The latest state: from the snapshot keyed nearest the end, late documents folded on top.
  const auto expected = projections::serialize(reference_fold(*all, std::numeric_limits<Micros>::max(), end));
  auto latest = read_ledger(es, AsOf{}, from_snapshots);
  REQUIRE(latest.is_ok());
  CHECK(latest->time_snapshot);
  CHECK(latest->folded < 200);  // not a fold from the start
  CHECK(projections::serialize(latest->view) == expected);
  CHECK(projections::serialize(read_ledger(es, AsOf{}, replay)->view) == expected);
  CHECK(latest->view.documents().size() == 7);
  // And at any date, by either kind of snapshot.
  int by_time = 0;
  for (int k = 0; k < 30; ++k) {
    const Micros t = when(rng);
    INFO("as of " << format_time(t));
    auto snapped = read_ledger(es, AsOf{.occurred = t}, from_snapshots);
    REQUIRE(snapped.is_ok());
    CHECK(projections::serialize(snapped->view) == projections::serialize(reference_fold(*all, t, end)));
    by_time += snapped->time_snapshot;
    const std::uint64_t at = 1 + rng() % end;
    auto positioned = read_ledger(es, AsOf{.occurred = t, .position = at}, from_snapshots);
    REQUIRE(positioned.is_ok());
    CHECK(projections::serialize(positioned->view) == projections::serialize(reference_fold(*all, t, at)));
  }
  CHECK(by_time > 10);
}

TEST_CASE("a history recorded after an event dated far ahead (nearly all of it late) folds the same from snapshots, as of any date") {
  test::TempDir dir;
  auto opened = open_relaxed(dir);
  auto& es = *opened;
  // A document dated today, first, before a history that starts years ago: every event
  // after it is backdated, so the folds read the log by position past the late ones instead
  // of decoding them.
  v1::DocumentWritten ahead;
  ahead.set_path("plans/today.md");
  ahead.set_content("# Today");
  REQUIRE(es.append("documents", store::ExpectedVersion::any(), {make_event(ahead, now_micros() - kMicrosPerDay)}).is_ok());
  std::mt19937_64 rng(13);
  test::HistoryOptions options;
  options.commands = 2500;
  test::generate_history(es, rng, options, [](const v1::LedgerView&) {});
  auto all = es.read_all(1, 1'000'000);
  REQUIRE(all.is_ok());
  const std::uint64_t end = all->back().position();
  REQUIRE(end > 1500);
  const auto late = es.late_events(std::numeric_limits<Micros>::min(), std::numeric_limits<Micros>::max(), 0, end);
  REQUIRE(late.is_ok());
  CHECK(late->size() * 10 > end * 9);
  Micros first = from_timestamp((*all)[1].occurred_at()), last = first;
  for (std::size_t i = 1; i < all->size(); ++i) last = std::max(last, from_timestamp((*all)[i].occurred_at()));
  LedgerOptions write;
  write.snapshot_every = 101;
  write.core_snapshot_every = 37;
  REQUIRE(read_ledger(es, AsOf{}, write).is_ok());
  LedgerOptions from_snapshots, replay;
  from_snapshots.write_snapshots = false;
  replay.use_snapshots = false;
  replay.write_snapshots = false;
  std::uniform_int_distribution<Micros> when(first, last);
  for (int k = 0; k < 20; ++k) {
    const Micros t = k == 0 ? std::numeric_limits<Micros>::max() : when(rng);
    const std::uint64_t at = k % 2 ? end : 1 + rng() % end;
    INFO("as of " << t << " at position " << at);
    const auto expected = projections::serialize(reference_fold(*all, t, at));
    const AsOf as_of = at == end ? AsOf{.occurred = t} : AsOf{.occurred = t, .position = at};
    CHECK(projections::serialize(read_ledger(es, as_of, from_snapshots)->view) == expected);
    CHECK(projections::serialize(read_ledger(es, as_of, replay)->view) == expected);
  }
}

TEST_CASE("a projection snapshot the disk damaged is skipped: the view is folded from the log, the same bytes, and verify names the damage") {
  test::TempDir dir;
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  std::string expected;
  {
    auto opened = store::EventStore::open(dir.path(), relaxed);
    REQUIRE(opened.is_ok());
    auto& es = **opened;
    std::mt19937_64 rng(7);
    test::HistoryOptions options;
    options.commands = 800;
    test::generate_history(es, rng, options, [](const v1::LedgerView&) {});
    write_snapshots(es);
    const LedgerOptions full = from_log();
    auto replayed = read_ledger(es, AsOf{}, full);
    REQUIRE(replayed.is_ok());
    expected = projections::serialize(replayed->view);
    REQUIRE(es.flush().is_ok());
  }
  // Every blob file (where the large snapshots live) damaged all along: a byte in every 512.
  int damaged = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    if (f.path().extension() == ".blob") {
      std::fstream file(f.path(), std::ios::in | std::ios::out | std::ios::binary);
      for (std::uintmax_t at = 300; at + 100 < f.file_size(); at += 512) {
        char c = 0;
        file.seekg(static_cast<std::streamoff>(at));
        file.read(&c, 1);
        c = static_cast<char>(c ^ 0x5a);
        file.seekp(static_cast<std::streamoff>(at));
        file.write(&c, 1);
      }
      ++damaged;
    }
  REQUIRE(damaged > 0);
  auto opened = store::EventStore::open(dir.path(), relaxed);
  REQUIRE(opened.is_ok());
  auto& es = **opened;
  CHECK_FALSE(es.verify().clean());
  REQUIRE(es.snapshot_at_or_before(projections::kLedgerSnapshotName, es.last_position()).status().code() == Code::corruption);
  LedgerOptions from_snapshots;
  from_snapshots.write_snapshots = false;
  auto read = read_ledger(es, AsOf{}, from_snapshots);  // before: the damaged snapshot's error, every view refused
  REQUIRE_MESSAGE(read.is_ok(), read.status().to_string());
  CHECK(projections::serialize(read->view) == expected);
}

TEST_CASE("the files in force from a files snapshot and the stream after it equal the fold of the whole stream, at any position and date") {
  test::TempDir dir;
  auto opened = open_relaxed(dir);
  auto& es = *opened;
  std::mt19937_64 rng(5);
  // 2 000 versions of 40 paths: edits, deletions, paths back after their deletion, dated in
  // no order, with another stream's events between; an import's snapshot after every 50.
  const Micros start = parse_time("2026-01-01").value();
  std::uniform_int_distribution<Micros> when(start, start + 200 * kMicrosPerDay);
  for (int k = 0; k < 2000; ++k) {
    v1::FileVersion f;
    f.set_path("notes/" + std::to_string(rng() % 40) + ".md");
    const bool deleted = rng() % 9 == 0;
    f.set_kind(deleted ? v1::FILE_DELETED : v1::FILE_REGULAR);
    if (!deleted) {
      f.set_sha256(sha256_hex(std::to_string(k)));
      f.set_size(static_cast<std::uint64_t>(k));
    }
    REQUIRE(es.append("files", store::ExpectedVersion::any(), {make_event(f, when(rng))}).is_ok());
    if (k % 5 == 0) {
      v1::SourceImported s;
      s.set_source("git");
      s.set_revision(std::to_string(k));
      REQUIRE(es.append("imports", store::ExpectedVersion::any(), {make_event(s, when(rng))}).is_ok());
    }
    if (k % 50 == 49) REQUIRE(keep_files_snapshot(es).is_ok());
  }
  const std::uint64_t end = es.last_position();
  auto newest = es.snapshot_at_or_before(projections::kFilesSnapshotName, end);
  REQUIRE(newest.is_ok());
  REQUIRE(newest->has_value());
  CHECK((*newest)->first > end - 400);  // kept up as the stream grew
  auto same = [&](const AsOf& at) {
    auto latest = files_latest_at(es, at);
    auto whole = files_at(es, at);
    REQUIRE(latest.is_ok());
    REQUIRE(whole.is_ok());
    CHECK(projections::files_view(*latest).SerializeAsString() == projections::files_view(*whole).SerializeAsString());
  };
  for (std::uint64_t p = 1; p <= end; p += 37) {
    INFO("at position " << p);
    same(AsOf{.position = p});
  }
  same(AsOf{});
  for (int k = 0; k < 20; ++k) {
    const Micros t = when(rng);
    INFO("as of " << format_time(t));
    same(AsOf{.occurred = t});
    same(AsOf{.occurred = t, .position = 1 + rng() % end});
  }
  // The snapshot is what the fold starts from: one that says otherwise shows in the view, and
  // one that does not parse is passed over for the stream.
  projections::FilesLatest forged;
  REQUIRE(projections::parse((*newest)->second, &forged));
  forged.paths["forged.md"].set_path("forged.md");
  forged.paths["forged.md"].set_kind(v1::FILE_REGULAR);
  forged.paths["forged.md"].set_version(1);
  REQUIRE(es.put_snapshot(projections::kFilesSnapshotName, (*newest)->first, projections::serialize(forged)).is_ok());
  auto shown = files_latest_at(es, AsOf{});
  REQUIRE(shown.is_ok());
  CHECK(shown->paths.count("forged.md") == 1);
  REQUIRE(es.put_snapshot(projections::kFilesSnapshotName, (*newest)->first, "not a snapshot").is_ok());
  same(AsOf{});
}
