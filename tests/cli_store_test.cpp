// The real `leanos` binary: global options, generic append, log, verify, backup, errors.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <utility>

#include "store/event_store.h"
#include "tests/support.h"

using leanos::test::run_leanos;
using leanos::test::TempDir;
using leanos::test::count_lines;

TEST_CASE("global options are accepted before or after the subcommand") {
  TempDir dir;
  auto a = run_leanos({"--data", dir.path(), "append", "notes", "--type", "NoteTaken"});
  CHECK(a.exit_code == 0);
  auto b = run_leanos({"append", "notes", "--type", "NoteTaken", "--data", dir.path(), "--json"});
  CHECK(b.exit_code == 0);
  CHECK(b.out.find("\"positions\":[2]") != std::string::npos);
  auto log1 = run_leanos({"--data", dir.path(), "log"});
  auto log2 = run_leanos({"log", "--data", dir.path()});
  CHECK(log1.exit_code == 0);
  CHECK(count_lines(log1.out) == 2);
  CHECK(log1.out == log2.out);
}

TEST_CASE("--version prints the version and exits 0, with or without a command after it") {
  auto v = run_leanos({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.rfind("leanos 0.", 0) == 0);
  CHECK(count_lines(v.out) == 1);
  auto before_command = run_leanos({"--version", "log"});
  CHECK(before_command.exit_code == 0);
  CHECK(before_command.out == v.out);
}

TEST_CASE("log --json prints one protobuf JSON object per event with the envelope fields") {
  TempDir dir;
  REQUIRE(run_leanos({"--data", dir.path(), "append", "notes", "--type", "NoteTaken", "--payload", "{\"text\":\"hi\"}",
                  "--at", "2026-03-01", "--actor", "alice", "--id", "n-1"})
              .exit_code == 0);
  auto log = run_leanos({"--data", dir.path(), "log", "--json"});
  REQUIRE(log.exit_code == 0);
  for (const char* key : {"\"position\":\"1\"", "\"stream\":\"notes\"", "\"version\":\"1\"", "\"event_id\":\"n-1\"",
                          "\"type\":\"NoteTaken\"", "\"recorded_at\":", "\"occurred_at\":\"2026-03-01T00:00:00Z\"",
                          "\"actor\":\"alice\"", "\"text\":\"hi\""})
    CHECK_MESSAGE(log.out.find(key) != std::string::npos, key);
}

TEST_CASE("malformed arguments give a clear error, a non-zero exit and append nothing") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"append", "notes", "--type", "T", "--payload", "{not json"}, "malformed JSON"},
      {{"append", "notes", "--type", "T", "--expected", "seven"}, "no_stream"},
      {{"append", "Notes Here", "--type", "T"}, "lowercase"},
      {{"append", "notes", "--type", "T", "--at", "2026-02-30"}, "day out of range"},
      {{"append", "notes"}, "--type is required"},
      {{"append", "notes", "--type", "T", "--expected", "3"}, "expected 3"},
      {{"append", "notes", "--type", "T", "--bogus"}, "bogus"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"--data", dir.path()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_leanos(args);
    INFO(c.says << " | stderr: " << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find(c.says) != std::string::npos);
  }
  auto log = run_leanos({"--data", dir.path(), "log"});
  CHECK(count_lines(log.out) == 0);
}

TEST_CASE("a second process on a data folder in use gets a clear error") {
  TempDir dir;
  auto held = leanos::store::EventStore::open(dir.path());
  REQUIRE(held.is_ok());
  auto r = run_leanos({"--data", dir.path(), "log"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("in use by another leanos process") != std::string::npos);
}

TEST_CASE("replay drops the snapshots of an earlier build's projections, which nothing reads again") {
  TempDir dir;
  for (int i = 0; i < 3; ++i) REQUIRE(run_leanos({"--data", dir.sub("d"), "append", "s", "--type", "T"}).exit_code == 0);
  {
    auto es = leanos::store::EventStore::open(dir.sub("d"));
    REQUIRE(es.is_ok());
    REQUIRE((*es)->put_snapshot("ledger-core-v3", 3, "an earlier build's state").is_ok());
    REQUIRE((*es)->snapshot_at_or_before("ledger-core-v3", 3).value().has_value());  // kept: the store is not locked
  }
  auto r = run_leanos({"--data", dir.sub("d"), "replay"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto es = leanos::store::EventStore::open(dir.sub("d"));
  REQUIRE(es.is_ok());
  CHECK((*es)->snapshot_at_or_before("ledger-core-v3", 3).value() == std::nullopt);
  CHECK((*es)->last_position() == 3);
}

TEST_CASE("verify exits zero on a clean log and backup writes an openable copy") {
  TempDir dir;
  for (int i = 0; i < 3; ++i) REQUIRE(run_leanos({"--data", dir.sub("d"), "append", "s", "--type", "T"}).exit_code == 0);
  auto v = run_leanos({"--data", dir.sub("d"), "verify", "--json"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("\"clean\":true") != std::string::npos);
  CHECK(v.out.find("\"events\":3") != std::string::npos);
  REQUIRE(run_leanos({"--data", dir.sub("d"), "backup", dir.sub("b")}).exit_code == 0);
  auto log = run_leanos({"--data", dir.sub("b"), "log"});
  CHECK(count_lines(log.out) == 3);
}

// RocksDB 7.8 makes a write-ahead log file at each open and, while no memtable flushes,
// never deletes the empty ones of earlier opens (facebook/rocksdb#11313, fixed in 8.3): an
// agent polling a quiet workspace left one file per command, forever.
TEST_CASE("read commands leave no write-ahead log files behind, and the folder still backs up and reopens whole") {
  TempDir dir;
  const std::string data = dir.sub("d");
  for (int i = 0; i < 3; ++i) REQUIRE(run_leanos({"--data", data, "append", "s", "--type", "T"}).exit_code == 0);
  auto logs = [&] {
    int n = 0;
    for (const auto& f : std::filesystem::directory_iterator(data)) n += f.path().extension() == ".log";
    return n;
  };
  for (int i = 0; i < 8; ++i) REQUIRE(run_leanos({"--data", data, "log"}).exit_code == 0);
  CHECK(logs() <= 2);  // this open's, and at most the one holding the appends until a flush
  REQUIRE(run_leanos({"--data", data, "append", "s", "--type", "T"}).exit_code == 0);  // into the newest file
  for (int i = 0; i < 4; ++i) REQUIRE(run_leanos({"--data", data, "log"}).exit_code == 0);
  CHECK(logs() <= 2);
  CHECK(count_lines(run_leanos({"--data", data, "log"}).out) == 4);  // nothing recorded was in a file taken away
  CHECK(run_leanos({"--data", data, "verify"}).exit_code == 0);
  REQUIRE(run_leanos({"--data", data, "backup", dir.sub("b")}).exit_code == 0);
  CHECK(count_lines(run_leanos({"--data", dir.sub("b"), "log"}).out) == 4);
}

// A command that only reads opens the folder read-only: before, each one wrote a MANIFEST,
// an OPTIONS and a log file there and synced them (half its time). Readers share the folder
// with each other, never with a writer.
TEST_CASE("commands that only read write nothing to the data folder, share it with readers, and keep writers out") {
  TempDir dir;
  const std::string data = dir.sub("d");
  for (int i = 0; i < 3; ++i) REQUIRE(run_leanos({"--data", data, "append", "s", "--type", "T"}).exit_code == 0);
  auto deal = run_leanos({"--data", data, "deal", "open", "acme", "--company", "Acme", "--segment", "smb", "--source", "inbound",
                          "--contact-name", "Ana", "--contact-email", "ana@acme.example", "--signal", "asked for a demo"});
  REQUIRE_MESSAGE(deal.exit_code == 0, deal.err);  // a person named: sealed, the vault in use
  auto files = [&] {
    std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> out;
    for (const auto& f : std::filesystem::directory_iterator(data)) out[f.path().filename().string()] = {f.file_size(), f.last_write_time()};
    return out;
  };
  const auto before = files();
  for (const std::vector<std::string>& read : {std::vector<std::string>{"log"}, {"verify"}, {"canvas", "show"}, {"deal", "list"},
                                               {"today"}, {"files"}, {"export", dir.sub("out")}, {"checkout", dir.sub("ws")}}) {
    std::vector<std::string> args{"--data", data};
    args.insert(args.end(), read.begin(), read.end());
    auto r = run_leanos(args);
    INFO(read.front() << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(files() == before);
  }
  {  // a reader holding the folder: another reads beside it, a writer is told it is in use
    leanos::store::StoreOptions reading;
    reading.read_only = true;
    auto held = leanos::store::EventStore::open(data, reading);
    REQUIRE(held.is_ok());
    CHECK(count_lines(run_leanos({"--data", data, "log"}).out) == 4);
    auto write = run_leanos({"--data", data, "append", "s", "--type", "T"});
    CHECK(write.exit_code != 0);
    CHECK(write.err.find("in use by another leanos process") != std::string::npos);
  }
  CHECK(run_leanos({"--data", data, "append", "s", "--type", "T"}).exit_code == 0);
  CHECK(count_lines(run_leanos({"--data", data, "log"}).out) == 5);
}

TEST_CASE("an append retried with the same id through the CLI is stored once") {
  TempDir dir;
  auto first = run_leanos({"--data", dir.path(), "append", "s", "--type", "T", "--id", "same", "--json"});
  auto again = run_leanos({"--data", dir.path(), "append", "s", "--type", "T", "--id", "same", "--json"});
  CHECK(first.exit_code == 0);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("\"idempotent_retry\":true") != std::string::npos);
  CHECK(count_lines(run_leanos({"--data", dir.path(), "log"}).out) == 1);
  auto other = run_leanos({"--data", dir.path(), "append", "s", "--type", "Other", "--id", "same"});
  CHECK(other.exit_code != 0);
  CHECK(other.err.find("different content") != std::string::npos);
}

TEST_CASE("bench append --server drives a real server from client processes and counts every acknowledged event") {
  TempDir dir;
  auto r = run_leanos({"bench", "append", "--server", "--json", "--dir", dir.sub("bench"), "--scale", "0.01", "--rows", "1x4",
                       "--payload", "256", "--durability", "relaxed"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // 40 events at this scale, but at least 20 appends per client: 4 clients x 20.
  for (const char* key : {"\"mode\":\"server\"", "\"durability\":\"relaxed\"", "\"payload_bytes\":256", "\"events_per_append\":1",
                          "\"appenders\":4", "\"events\":80,"})
    CHECK_MESSAGE(r.out.find(key) != std::string::npos, key);
  // The floor, in the same run: the server's reactors over a synced file, the same clients.
  const auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["floor_eps"].get<double>() > 0);
  CHECK(rows[0]["floor_ratio"].get<double>() == doctest::Approx(rows[0]["store_eps"].get<double>() / rows[0]["floor_eps"].get<double>()).epsilon(0.01));
  CHECK(rows[0]["floor_p50_ms"].get<double>() > 0);
  auto bad = run_leanos({"bench", "append", "--server", "--rows", "1x3", "--dir", dir.sub("bad")});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("'1x3' is not a cell of the grid; use some of 1x1,1x4,1x16,1x64,1x256") != std::string::npos);
  auto durability = run_leanos({"bench", "append", "--durability", "fast", "--dir", dir.sub("bad")});
  CHECK(durability.exit_code != 0);
  CHECK(durability.err.find("fast") != std::string::npos);
}

namespace {
// `bench append --json` in process on the grid cells `rows` (relaxed, a hundredth of the
// events): its rows.
nlohmann::json bench_append_rows(const std::string& dir, const std::string& rows) {
  auto r = run_leanos({"bench", "append", "--json", "--dir", dir, "--scale", "0.01", "--rows", rows, "--durability", "relaxed"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}
}  // namespace

TEST_CASE("bench append in process measures RocksDB's own write group beside the store's group commit") {
  TempDir dir;
  const auto rows = bench_append_rows(dir.sub("bench"), "1x1,1x4");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["appenders"] == 1);
  CHECK(rows[0]["raw_group_eps"] == 0);  // one writer: the plain raw baseline is the one
  CHECK(rows[0]["own_groups"] == 1.0);    // a lone appender commits every append itself
  CHECK(rows[1]["appenders"] == 4);
  CHECK(rows[1]["raw_group_eps"].get<double>() > 0);
  CHECK(rows[1]["raw_eps"].get<double>() > 0);
}

TEST_CASE("bench append prices sealing beside the same contacts in clear, in throughput and CPU per event") {
  TempDir dir;
  const auto rows = bench_append_rows(dir.sub("json"), "10x4");
  REQUIRE(rows.size() == 1);
  for (const char* key : {"store_eps", "clear_contacts_eps", "sealed_eps", "sealed_known_eps", "cpu_us_per_event",
                          "clear_contacts_cpu_us_per_event", "sealed_cpu_us_per_event", "sealed_known_cpu_us_per_event"}) {
    INFO(key);
    REQUIRE(rows[0].contains(key));
    CHECK(rows[0][key].get<double>() > 0);
  }
  auto text = run_leanos({"bench", "append", "--dir", dir.sub("text"), "--scale", "0.01", "--rows", "1x1,10x4", "--durability", "relaxed"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("contacts ev/s: in clear; sealed, new person (x clear), known person (x clear)") != std::string::npos);
  CHECK(text.out.find("sealing, 10 x 4: ") != std::string::npos);
  CHECK(text.out.find("sealing, 1 x 1: ") == std::string::npos);  // a single append's CPU is the fsync's, not sealing's
}
