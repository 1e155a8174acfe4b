// One Ledger interface, two places: the same calls through a LocalLedger (this process) and a
// RemoteLedger (a server in this process, over gRPC) give the same answers, rejections
// included, with the rule's id, parameters and hint in the domain's words; the CLI renders
// its own hint from the id and parameters.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "actors/ledger.h"
#include "events/ids.h"
#include "tests/builders.h"
#include "tests/support.h"
#include "tools/bridge/import_command.h"
#include "tools/bridge/upload.h"
#include "tools/cli/hints.h"
#include "tools/server/client.h"
#include "tools/server/server.h"

using namespace leanos;

namespace {

Envelope lead(const std::string& deal) {
  Envelope c = test::command(test::lead_captured(deal), "2026-03-01", "lead-" + deal);
  c.set_actor("test");
  return c;
}

Envelope implication(const std::string& deal, std::int64_t low, std::int64_t high) {
  v1::ImplicationAssessed i;
  i.set_deal_id(deal);
  i.set_arr_low(low);
  i.set_arr_high(high);
  i.set_strategic(v1::LOW);
  i.set_priority(0.4);
  return test::command(i, "2026-03-02", "implication-" + deal + "-" + std::to_string(high));
}

std::unique_ptr<store::EventStore> open_store(const test::TempDir& dir) {
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  auto s = store::EventStore::open(dir.path(), relaxed);
  REQUIRE(s.is_ok());
  return std::move(*s);
}

// A store served by a server in this process, and the RemoteLedger that talks to it.
struct Served {
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<cli::LocalServer> server;
  std::unique_ptr<Ledger> ledger;
  explicit Served(const test::TempDir& dir) : store(open_store(dir)) {
    auto started = cli::LocalServer::start(*store);
    REQUIRE(started.is_ok());
    server = std::move(*started);
    cli::GlobalOptions g;
    g.server = "127.0.0.1:" + std::to_string(server->port());
    auto connected = cli::connect(g);
    REQUIRE(connected.is_ok());
    ledger = std::move(*connected);
  }
  ~Served() { ledger.reset(); }  // the client before the server
};

// What one ledger answers to the same calls, as comparable text.
struct Answers {
  std::vector<std::string> recorded;  // type, stream, version of each event recorded
  std::string rejection;              // code, rule id, parameters
  std::string hint, cli_hint;         // the domain's words, and the CLI's for the same rejection
  std::string no_goal;                // a view of a goal that does not exist: rule, hint, the CLI's hint
  std::string deal_view, deals_view, pipeline_view;
  std::vector<std::string> read;      // the deal's stream, read back
  std::string appended, raw_refusal;
};

Answers drive(Ledger& ledger) {
  Answers a;
  auto note = [&](const Result<Handled>& h) {
    INFO(h.status().to_string());
    REQUIRE(h.is_ok());
    for (const auto& e : h->events)
      a.recorded.push_back(e.type() + " " + e.stream() + " v" + std::to_string(e.version()) + (h->idempotent_retry ? " (retry)" : ""));
  };
  note(ledger.submit({lead("acme")}));
  note(ledger.submit({lead("acme")}));  // a retry: the same events, recorded once
  auto refused = ledger.submit({implication("acme", 1000, 2000)});  // stage 3 before stage 2: the rule says which
  REQUIRE(!refused.is_ok());
  a.rejection = std::to_string(static_cast<int>(refused.status().code())) + " " + refused.status().rule_id();
  auto params = refused.status().params();
  std::sort(params.begin(), params.end());  // the wire carries them as a map
  for (const auto& [k, v] : params) a.rejection += " " + k + "=" + v;
  a.hint = refused.status().hint();
  a.cli_hint = cli::cli_hint(refused.status());
  note(ledger.submit({lead("beta")}));
  v1::QueryRequest goal;
  goal.mutable_goal()->set_goal_id("g-nope");
  auto no_goal = ledger.query(goal);
  REQUIRE(!no_goal.is_ok());
  a.no_goal = no_goal.status().rule_id() + " | " + no_goal.status().hint() + " | " + cli::cli_hint(no_goal.status());
  // A view as of 2026-03-05, as text: `set` names which.
  auto view = [&](const std::function<void(v1::QueryRequest&)>& set) {
    v1::QueryRequest q;
    q.set_as_of("2026-03-05");
    set(q);
    auto reply = ledger.query(q);
    REQUIRE(reply.is_ok());
    return reply->ShortDebugString();
  };
  a.deal_view = view([](v1::QueryRequest& q) { q.mutable_deal()->set_deal_id("acme"); });
  a.deals_view = view([](v1::QueryRequest& q) { q.mutable_deals(); });
  a.pipeline_view = view([](v1::QueryRequest& q) { q.mutable_pipeline(); });
  ReadRequest r;
  r.stream = "deal-acme";
  auto events = ledger.read(r);
  REQUIRE(events.is_ok());
  for (const auto& e : *events) a.read.push_back(e.event_id() + " " + e.type());
  Envelope note_event;
  note_event.set_type("NoteTaken");
  note_event.set_event_id("note-1");
  note_event.mutable_generic();
  auto appended = ledger.append("notes-1", "no_stream", {note_event});
  REQUIRE(appended.is_ok());
  a.appended = std::to_string(appended->stream_version);
  auto raw = ledger.append("deal-acme", "any", {note_event});  // the rules' stream takes no raw append
  REQUIRE(!raw.is_ok());
  a.raw_refusal = std::to_string(static_cast<int>(raw.status().code()));
  return a;
}

}  // namespace

TEST_CASE("the same calls through a local ledger and through a server's give the same answers, rejections included") {
  test::TempDir local_dir, remote_dir;
  auto local_store = open_store(local_dir);
  LocalLedger local(*local_store);
  const Answers here = drive(local);

  Served remote(remote_dir);
  const Answers there = drive(*remote.ledger);

  REQUIRE(here.recorded.size() == there.recorded.size());
  for (std::size_t i = 0; i < std::min(here.recorded.size(), there.recorded.size()); ++i) CHECK(here.recorded[i] == there.recorded[i]);
  CHECK(here.recorded == there.recorded);
  CHECK(here.recorded == std::vector<std::string>{"LeadCaptured deal-acme v1", "LeadCaptured deal-acme v1 (retry)", "LeadCaptured deal-beta v1"});
  CHECK(here.rejection == there.rejection);
  CHECK(!here.rejection.empty());
  // The rule speaks the domain (the command to record), whoever asks; the CLI renders its own.
  CHECK(here.hint == there.hint);
  CHECK(here.hint.find("HypothesisStated") != std::string::npos);
  CHECK(here.hint.find("leanos") == std::string::npos);
  CHECK(here.cli_hint == there.cli_hint);
  CHECK(here.cli_hint.find("`leanos deal hypothesis acme") != std::string::npos);
  CHECK(here.no_goal == there.no_goal);
  CHECK(here.no_goal == "UNKNOWN_GOAL | define it first (GoalDefined g-nope) | define it first with `leanos goal define g-nope ...`");
  CHECK(here.deal_view == there.deal_view);
  CHECK(here.deals_view == there.deals_view);
  CHECK(here.pipeline_view == there.pipeline_view);
  CHECK(here.read == there.read);
  CHECK(here.appended == there.appended);
  CHECK(here.raw_refusal == there.raw_refusal);
}

namespace {

// The positions a subscription delivered, waited for without sleeping.
struct Delivered {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> positions;
  Ledger::OnPage on_page() {
    return [this](const std::vector<Envelope>& page) {
      std::lock_guard lock(mu);
      for (const auto& e : page) positions.push_back(e.position());
      cv.notify_all();
    };
  }
  // The first `n` positions delivered, or fewer when 30 s pass without them.
  std::vector<std::uint64_t> first(std::size_t n) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return positions.size() >= n; });
    return {positions.begin(), positions.begin() + static_cast<std::ptrdiff_t>(std::min(n, positions.size()))};
  }
};

// follow(0) sees what is recorded after it; follow(1) what the log held, then the same.
void follows(Ledger& ledger) {
  REQUIRE(ledger.submit({lead("one")}).is_ok());  // position 1
  Delivered live, whole;
  auto ended = [](const Status& s) { FAIL_CHECK("the feed ended: " << s.to_string()); };
  auto from_now = ledger.follow(0, live.on_page(), ended);
  auto from_start = ledger.follow(1, whole.on_page(), ended);
  REQUIRE(from_now.is_ok());
  REQUIRE(from_start.is_ok());
  REQUIRE(ledger.submit({lead("two")}).is_ok());    // position 2
  REQUIRE(ledger.submit({lead("three")}).is_ok());  // position 3
  CHECK(live.first(2) == std::vector<std::uint64_t>{2, 3});
  CHECK(whole.first(3) == std::vector<std::uint64_t>{1, 2, 3});
}

}  // namespace

TEST_CASE("a local ledger and a server's deliver the log as it grows, from now or from a position") {
  test::TempDir local_dir, remote_dir;
  auto local_store = open_store(local_dir);
  LocalLedger local(*local_store);
  follows(local);

  Served remote(remote_dir);
  follows(*remote.ledger);
}

namespace {

// A LeanOS folder with what the files layer keeps beyond markdown: a binary file, an
// executable, a link (never followed), an empty file, a large file sent in parts, a path left
// out by .leanosignore.
void write_workspace(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::copy(LEANOS_SEED_FIXTURE, dir, fs::copy_options::recursive);
  auto write = [&](const std::string& rel, const std::string& bytes) {
    fs::create_directories(fs::path(dir + "/" + rel).parent_path());
    std::ofstream(dir + "/" + rel, std::ios::binary) << bytes;
  };
  write("assets/logo.png", std::string("\x89PNG\r\n\x1a\n\0\xff", 10));
  write("tools/sync.sh", "#!/bin/sh\necho sync\n");
  fs::permissions(dir + "/tools/sync.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("../strategy/canvas/10-assumptions.md", dir + "/assets/assumptions-link");
  write(".gitkeep", "");
  std::string big(3 * (std::size_t{1} << 20) + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  write("assets/recording.bin", big);
  write(".leanosignore", "scratch/\n");
  write("scratch/notes.md", "left out\n");
}

std::string report_text(const Result<v1::ImportReport>& r) {
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  return cli::report_json(*r).dump(1);
}

std::string view_of(Ledger& ledger, const std::function<void(v1::QueryRequest&)>& ask) {
  v1::QueryRequest q;
  ask(q);
  auto r = ledger.query(q);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  if (r->has_files())
    for (auto& f : *r->mutable_files()->mutable_files()) f.clear_recorded_at();  // each ledger's own clock
  return r->DebugString();
}

}  // namespace

TEST_CASE("a workspace folder imported through a local ledger and through a server's: the same report, files and facts") {
  test::TempDir folder, local_dir, remote_dir;
  const std::string ws = folder.sub("ws");
  write_workspace(ws);
  auto local_store = open_store(local_dir);
  LocalLedger local(*local_store);
  local.set_importer(cli::importer());
  Served remote(remote_dir);
  ImportFolder request{ws, {}, nullptr};

  const std::string here = report_text(local.import_folder(request));
  const std::string there = report_text(remote.ledger->import_folder(request));
  CHECK(here == there);
  const auto report = nlohmann::json::parse(here);
  CHECK(report["events_recorded"].get<int>() > 0);
  CHECK(report["files"]["ignored"] == 1);
  CHECK(report["files"]["in_workspace"] == 22);  // the seed's 16, the 6 added
  CHECK(report["exit_code"] == 0);
  for (auto* ledger : {static_cast<Ledger*>(&local), remote.ledger.get()}) {
    const auto files = view_of(*ledger, [](v1::QueryRequest& q) { q.mutable_files(); });
    CHECK(files.find("assets/recording.bin") != std::string::npos);
    CHECK(files.find("FILE_SYMLINK") != std::string::npos);
    CHECK(files.find("FILE_EXECUTABLE") != std::string::npos);
    CHECK(files.find("scratch/") == std::string::npos);
  }
  // What the ledger holds afterwards is the same: the files (their versions, sizes, digests and
  // dates: the server wrote the sent times), and the facts.
  CHECK(view_of(local, [](v1::QueryRequest& q) { q.mutable_files(); }) ==
        view_of(*remote.ledger, [](v1::QueryRequest& q) { q.mutable_files(); }));
  CHECK(view_of(local, [](v1::QueryRequest& q) { q.mutable_canvas(); }) ==
        view_of(*remote.ledger, [](v1::QueryRequest& q) { q.mutable_canvas(); }));
  auto pipeline = [](v1::QueryRequest& q) {
    q.mutable_pipeline();
    q.set_as_of("2030-01-01");
  };
  CHECK(view_of(local, pipeline) == view_of(*remote.ledger, pipeline));

  // A file's bytes, read back through either (the server's in parts of 1 MiB).
  v1::QueryRequest files;
  files.mutable_files();
  auto listed = remote.ledger->query(files);
  REQUIRE(listed.is_ok());
  std::string big_sha;
  for (const auto& f : listed->files().files())
    if (f.path() == "assets/recording.bin") big_sha = f.sha256();
  REQUIRE(!big_sha.empty());
  auto mine = local.read_file(big_sha);
  auto theirs = remote.ledger->read_file(big_sha);
  REQUIRE(mine.is_ok());
  REQUIRE(theirs.is_ok());
  CHECK(mine->size() == 3 * (std::size_t{1} << 20) + 17);
  CHECK(*mine == *theirs);
  const std::string none(64, 'a');
  CHECK(local.read_file(none).status().code() == Code::not_found);
  CHECK(remote.ledger->read_file(none).status().code() == Code::not_found);

  // Again: nothing new on either side.
  const std::string again_here = report_text(local.import_folder(request));
  CHECK(again_here == report_text(remote.ledger->import_folder(request)));
  CHECK(nlohmann::json::parse(again_here)["events_recorded"] == 0);
  CHECK(nlohmann::json::parse(again_here)["files"]["versions_recorded"] == 0);

  // A folder that is not there is named, on both.
  ImportFolder missing{folder.sub("nope"), {}, nullptr};
  auto a = local.import_folder(missing);
  auto b = remote.ledger->import_folder(missing);
  REQUIRE(!a.is_ok());
  REQUIRE(!b.is_ok());
  CHECK(a.status().code() == Code::not_found);
  CHECK(b.status().code() == Code::not_found);
  CHECK(a.status().message() == b.status().message());
}

TEST_CASE("an import's parts that would write outside the folder, twice, or out of order are refused, named") {
  auto part = [](const std::string& path, bool more = false) {
    v1::ImportPart p;
    p.set_path(path);
    p.set_kind(v1::FILE_REGULAR);
    p.set_data("x");
    p.set_more(more);
    return p;
  };
  v1::ImportPart options;
  options.mutable_options()->set_strict(true);
  {
    auto up = bridge::FolderUpload::make();
    REQUIRE(up.is_ok());
    CHECK(up->add(options).is_ok());
    auto s = up->add(part("../outside.md"));
    CHECK(s.code() == Code::invalid_argument);
    CHECK(s.message().find("../outside.md") != std::string::npos);
    CHECK(!std::filesystem::exists(std::filesystem::path(up->dir()).parent_path() / "outside.md"));
    CHECK(up->add(part(".git/config")).code() == Code::invalid_argument);
  }
  {
    auto up = bridge::FolderUpload::make();
    REQUIRE(up.is_ok());
    CHECK(up->add(options).is_ok());
    CHECK(up->add(part("a.md")).is_ok());
    CHECK(up->add(part("a.md")).message().find("sent twice") != std::string::npos);
    CHECK(up->add(options).message().find("only the first part") != std::string::npos);
    CHECK(up->add(part("b.md", true)).is_ok());
    CHECK(up->add(part("c.md")).message().find("b.md: its last part said more was to come") != std::string::npos);
  }
  {
    auto up = bridge::FolderUpload::make();
    REQUIRE(up.is_ok());
    CHECK(up->add(part("a.md")).is_ok());
    auto done = up->finish();
    REQUIRE(!done.is_ok());
    CHECK(done.status().message().find("the first part of an import gives them") != std::string::npos);
  }
  {
    auto up = bridge::FolderUpload::make();
    REQUIRE(up.is_ok());
    CHECK(up->add(options).is_ok());
    CHECK(up->add(part("big.md", true)).is_ok());
    auto done = up->finish();
    REQUIRE(!done.is_ok());
    CHECK(done.status().message().find("big.md") != std::string::npos);
    auto ok = bridge::FolderUpload::make();
    REQUIRE(ok.is_ok());
    CHECK(ok->add(options).is_ok());
    CHECK(ok->add(part("x/y.md")).is_ok());
    auto fine = ok->finish();
    REQUIRE(fine.is_ok());
    CHECK(fine->strict());
    CHECK(std::filesystem::is_regular_file(ok->dir() + "/x/y.md"));
  }
}
