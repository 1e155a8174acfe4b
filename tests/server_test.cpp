// The real `leanos serve` process on a free loopback port, driven over gRPC.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "leanos/v1/api.grpc.pb.h"
#include "tests/server_support.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::test;
using v1::Envelope;

TEST_CASE("subscribers started before, during and after concurrent appends each receive exactly the log in order") {
  test::TempDir dir;
  Server server(dir.path());
  v1::SubscribeRequest from_start;
  from_start.set_from_position(1);
  std::vector<std::uint64_t> before, during, after;
  std::thread early([&] { before = collect(server.stub(), from_start); });
  std::atomic<int> appended{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::thread> appenders;
  for (int t = 0; t < 4; ++t)
    appenders.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        v1::AppendResponse out;
        std::vector<Envelope> batch(1 + static_cast<std::size_t>(i % 3), note());
        REQUIRE(append(server.stub(), "s-" + std::to_string(t), batch, &out).ok());
        std::lock_guard lock(mu);
        appended += static_cast<int>(batch.size());
        cv.notify_all();
      }
    });
  std::thread middle;
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return appended >= 300; });  // well into the appends
    middle = std::thread([&] { during = collect(server.stub(), from_start); });
  }
  for (auto& a : appenders) a.join();
  v1::AppendResponse end;
  REQUIRE(append(server.stub(), "control", {note("End")}, &end).ok());
  const std::uint64_t total = end.positions(0);
  after = collect(server.stub(), from_start);
  early.join();
  middle.join();
  CHECK(total == static_cast<std::uint64_t>(appended) + 1);
  for (const auto* got : {&before, &during, &after}) {
    CHECK(got->size() == total);
    CHECK(dense_from_1(*got));
  }
  CHECK(server.stop(SIGTERM) == 0);  // clean shutdown on SIGTERM
}

TEST_CASE("a named subscriber resumes after its last acknowledged position") {
  test::TempDir dir;
  Server server(dir.path());
  v1::AppendResponse out;
  for (int i = 0; i < 20; ++i) REQUIRE(append(server.stub(), "s", {note()}, &out).ok());
  REQUIRE(append(server.stub(), "control", {note("End")}, &out).ok());
  v1::SubscribeRequest named;
  named.set_name("sales-materials-generation");
  {
    grpc::ClientContext ctx;
    auto reader = server.stub().Subscribe(&ctx, named);
    v1::SubscribePage page;
    std::vector<Envelope> handled;
    while (handled.size() < 8 && reader->Read(&page))
      for (const auto& e : page.events())
        if (handled.size() < 8) handled.push_back(e);
    REQUIRE(handled.size() == 8);
    for (const auto& e : handled) {  // acknowledged one by one, as a skill handles them
      grpc::ClientContext ack_ctx;
      v1::AckRequest ack;
      ack.set_name("sales-materials-generation");
      ack.set_position(e.position());
      v1::AckResponse none;
      REQUIRE(server.stub().Ack(&ack_ctx, ack, &none).ok());
    }
    ctx.TryCancel();  // the subscriber dies mid-stream
    reader->Finish();
  }
  auto rest = collect(server.stub(), named);
  REQUIRE_FALSE(rest.empty());
  CHECK(rest.front() == 9);
  CHECK(rest.back() == 21);
  CHECK(rest.size() == 13);
}

TEST_CASE("a stalled subscriber holds up no append and no other subscriber, and the server's memory stays bounded") {
  test::TempDir dir;
  Server server(dir.path());
  v1::AppendResponse out;
  REQUIRE(append(server.stub(), "s", {note()}, &out).ok());
  // Its own connection: HTTP/2 flow control stalls a whole connection once its window fills.
  grpc::ChannelArguments own;
  own.SetInt("grpc.use_local_subchannel_pool", 1);
  auto stalled_stub = v1::Ledger::NewStub(grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), own));
  grpc::ClientContext stalled_ctx;
  v1::SubscribeRequest from_start;
  from_start.set_from_position(1);
  auto stalled = stalled_stub->Subscribe(&stalled_ctx, from_start);
  v1::SubscribePage page;
  REQUIRE(stalled->Read(&page));  // connected; from here it stops reading
  REQUIRE(page.events_size() == 1);
  const long before = server.rss_kib();
  REQUIRE(before > 0);
  // 384 MB while it stalls: 384 appends of 256 events of 4 KB. Every one is acknowledged
  // (were appends waiting for the subscriber, this would never finish).
  Envelope big = note();
  big.mutable_generic()->set_blob(std::string(4096, 'z'));
  for (int i = 0; i < 384; ++i) REQUIRE(append(server.stub(), "s", std::vector<Envelope>(256, big), &out).ok());
  REQUIRE(append(server.stub(), "control", {note("End")}, &out).ok());
  const std::uint64_t total = out.positions(0);
  // Another subscriber meanwhile reads the whole log.
  v1::SubscribeRequest all;
  all.set_from_position(1);
  const auto other = collect(server.stub(), all);
  CHECK(other.size() == total);
  CHECK(dense_from_1(other));
  const long after = server.rss_kib();
  // Bounded structures account for the growth: RocksDB's memtables (64 MB, a second one
  // while the first flushes), its block cache (32 MB) and the live window (32 MB). A server
  // that held the stalled subscriber's backlog would have grown by the 384 MB on top.
  MESSAGE("server RSS " << before / 1024 << " MiB before, " << after / 1024 << " MiB after 384 MB appended");
  CHECK(after - before < 240 * 1024);
  // When it reads again, it gets exactly the rest of the log.
  std::vector<std::uint64_t> rest;
  while (rest.empty() || rest.back() < total) {
    REQUIRE(stalled->Read(&page));
    for (const auto& e : page.events()) rest.push_back(e.position());
  }
  REQUIRE(rest.size() == total - 1);
  CHECK(rest.front() == 2);
  CHECK(rest.back() == total);
  stalled_ctx.TryCancel();
  stalled->Finish();
}

TEST_CASE("appends acknowledged before the server is killed with SIGKILL are in the log after a restart") {
  test::TempDir dir;
  std::vector<std::uint64_t> acked;
  {
    Server server(dir.path());
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<bool> dead{false};
    std::thread appender([&] {
      for (;;) {
        v1::AppendResponse out;
        if (!append(server.stub(), "s", {note(), note()}, &out).ok()) return;  // the server died
        std::lock_guard lock(mu);
        acked.insert(acked.end(), out.positions().begin(), out.positions().end());
        cv.notify_all();
        if (dead) return;
      }
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return acked.size() >= 400; });
    }
    server.stop(SIGKILL);
    dead = true;
    appender.join();
  }
  Server again(dir.path());
  grpc::ClientContext ctx;
  v1::ReadAllRequest req;
  req.set_from_position(1);
  req.set_limit(100000);
  v1::ReadResponse all;
  REQUIRE(again.stub().ReadAll(&ctx, req, &all).ok());
  CHECK(static_cast<std::size_t>(all.events_size()) >= acked.size());
  for (std::size_t i = 0; i < static_cast<std::size_t>(all.events_size()); ++i) CHECK(all.events(static_cast<int>(i)).position() == i + 1);
  CHECK(all.last_position() >= acked.back());
}

TEST_CASE("bad input over the wire gets a clear status, appends nothing, and the server keeps serving") {
  test::TempDir dir;
  const std::string token_file = test::write_file(dir.sub("token"), "s3cret\n");
  Server server(dir.sub("data"), {"--token-file", token_file});
  v1::AppendResponse out;
  auto missing = append(server.stub(), "s", {note()}, &out);
  CHECK(missing.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(append(server.stub(), "s", {note()}, &out, "any", "wrong").error_code() == grpc::StatusCode::UNAUTHENTICATED);
  Envelope untyped;
  untyped.mutable_generic();
  auto bad_type = append(server.stub(), "s", {untyped}, &out, "any", "s3cret");
  CHECK(bad_type.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  auto stale = append(server.stub(), "s", {note()}, &out, "7", "s3cret");
  CHECK(stale.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(stale.error_message().find("expected 7") != std::string::npos);
  Envelope big = note();
  big.mutable_generic()->set_blob(std::string(5 * 1024 * 1024, 'x'));
  CHECK(append(server.stub(), "s", {big}, &out, "any", "s3cret").error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A domain command that breaks a rule: FAILED_PRECONDITION or NOT_FOUND with the reason.
  grpc::ClientContext cctx;
  cctx.AddMetadata("authorization", "Bearer s3cret");
  v1::CommandRequest cmd;
  cmd.mutable_command()->mutable_hypothesis_stated()->set_deal_id("ghost");
  auto rejected = server.stub().Command(&cctx, cmd, &out);
  CHECK(rejected.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(rejected.error_message().find("deal 'ghost' does not exist") != std::string::npos);
  // Nothing was appended, and the server still serves.
  grpc::ClientContext rctx;
  rctx.AddMetadata("authorization", "Bearer s3cret");
  v1::ReadAllRequest req;
  v1::ReadResponse all;
  REQUIRE(server.stub().ReadAll(&rctx, req, &all).ok());
  CHECK(all.events_size() == 0);
  CHECK(append(server.stub(), "s", {note()}, &out, "no_stream", "s3cret").ok());
}

TEST_CASE("a Python service subscribes as a named skill and receives the actions it acts on") {
  test::TempDir dir;
  const std::string data = dir.sub("data");
  // The seed's workspace: 5 deals, each with 5 ActionStarted events (25 in all).
  test::seed_example(data);
  Server server(data);
  // The server serves the seeded log.
  grpc::ClientContext ctx;
  v1::ReadAllRequest req;
  v1::ReadResponse all;
  REQUIRE(server.stub().ReadAll(&ctx, req, &all).ok());
  int starts = 0;
  for (const auto& e : all.events()) starts += e.has_action_started();
  REQUIRE(starts == 25);
  auto first = test::run("/usr/bin/python3", {PYTHON_SUBSCRIBER, PYTHON_OUT, server.address(), "sales-materials-generation", "10"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(test::count_lines(first.out) == 10);
  CHECK(first.out.find("sales:lead-intake") != std::string::npos);
  // The skill comes back and resumes after its last acknowledged event.
  auto second = test::run("/usr/bin/python3", {PYTHON_SUBSCRIBER, PYTHON_OUT, server.address(), "sales-materials-generation", "15"});
  REQUIRE(second.exit_code == 0);
  CHECK(test::count_lines(second.out) == 15);
  const auto last_of_first = std::stoull(first.out.substr(first.out.rfind('\n', first.out.size() - 2) + 1));
  const auto first_of_second = std::stoull(second.out.substr(0, second.out.find(' ')));
  CHECK(first_of_second > last_of_first);
}

TEST_CASE("with --server the CLI records through the running server, under the same rules") {
  TokenServer t;
  auto& server = t.server;
  const auto& token_file = t.token_file;
  auto cli = [&](std::vector<std::string> args) { return t.cli(std::move(args)); };
  auto assume = cli({"canvas", "assume", "A4", "--statement", "Enterprise customers prefer white-label", "--confidence", "60"});
  INFO(assume.err);
  CHECK(assume.exit_code == 0);
  CHECK(assume.out.find("recorded AssumptionRegistered in canvas at position 1") != std::string::npos);
  auto open = cli({"deal", "open", "acme", "--company", "Acme", "--segment", "enterprise", "--source", "inbound",
                   "--contact-name", "Jane", "--contact-email", "jane@acme.example", "--signal", "demo request"});
  CHECK(open.exit_code == 0);
  auto refused = cli({"deal", "hypothesis", "acme", "--tests", "A9", "--confidence", "50"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("assumption 'A9' is not in the canvas") != std::string::npos);
  auto skipped = cli({"deal", "decide", "acme", "qualify", "--reason", "r"});
  CHECK(skipped.exit_code == 5);
  CHECK(skipped.err.find("stage 2 (hypothesis") != std::string::npos);
  // Without the token the server refuses, and the CLI says why.
  auto anonymous = test::run_leanos({"--server", server.address(), "canvas", "assume", "A5", "--statement", "s", "--confidence", "5"});
  CHECK(anonymous.exit_code != 0);
  CHECK(anonymous.err.find("authorization") != std::string::npos);
  auto sub = test::run_leanos({"subscribe", "--server", server.address(), "--token-file", token_file, "--from", "1", "--limit", "2"});
  CHECK(sub.exit_code == 0);
  CHECK(test::count_lines(sub.out) == 2);
  CHECK(sub.out.find("\"type\":\"LeadCaptured\"") != std::string::npos);
}

TEST_CASE("with --server every query answers exactly what the CLI answers on the data folder, time travel included") {
  test::TempDir dir;
  const std::string data = dir.sub("data");
  test::seed_example(data);
  const std::vector<std::vector<std::string>> queries = {
      {"canvas", "show", "--json"},
      {"canvas", "show", "--as-of", "2025-12-01"},
      {"goal", "show", "g-mrr-50k", "--json", "--as-of", "2026-03-01"},
      {"metrics", "--json"},
      {"metrics", "--segment", "enterprise", "--at-position", "40"},
      {"marketing", "opportunities", "--json"},
      {"deal", "show", "acme-corp", "--json"},
      {"deal", "show", "epsilon-ins", "--json", "--as-of", "2026-01-06"},
      {"audit", "acme-corp", "--json"},
      {"why", "canvas", "A4"},
      {"today", "--json", "--as-of", "2026-03-01"},
      {"pipeline", "--known-at", "2030-01-01"},
      {"canvas", "show", "--as-of", "2026-01-01", "--known-at", "2030-01-01"},
      {"deal", "list", "--status", "open"},
      {"deal", "list", "--json", "--as-of", "2026-02-01"},
  };
  std::vector<std::string> remote;
  {
    Server server(data);
    for (const auto& q : queries) {
      std::vector<std::string> args = {"--server", server.address()};
      args.insert(args.end(), q.begin(), q.end());
      auto r = test::run_leanos(args);
      INFO(q[0], " ", q[1], ": ", r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out.size() > 10);
      remote.push_back(r.out);
    }
    // Bad queries fail as they do locally: the status names what was wrong.
    auto unknown = test::run_leanos({"--server", server.address(), "deal", "show", "no-such-deal"});
    CHECK(unknown.exit_code == 3);
    CHECK(unknown.err.find("deal 'no-such-deal' does not exist") != std::string::npos);
    auto bad_date = test::run_leanos({"--server", server.address(), "metrics", "--as-of", "March 1st"});
    CHECK(bad_date.exit_code == 2);
    CHECK(bad_date.err.find("--as-of") != std::string::npos);
    CHECK(server.stop(SIGTERM) == 0);
  }
  for (std::size_t i = 0; i < queries.size(); ++i) {
    std::vector<std::string> args = {"--data", data};
    args.insert(args.end(), queries[i].begin(), queries[i].end());
    auto local = test::run_leanos(args);
    INFO(queries[i][0], " ", queries[i][1]);
    CHECK(local.exit_code == 0);
    CHECK(local.out == remote[i]);
  }
}

TEST_CASE("a Python service reads typed fields of the canvas, a goal, today and the pipeline as of a date") {
  test::TempDir dir;
  const std::string data = dir.sub("data");
  test::seed_example(data);
  const std::string as_of = "2026-02-20";
  // What the CLI's --json says for the same queries, on the data folder (before the server
  // holds it).
  auto json_of = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data, "--json"});
    args.insert(args.end(), {"--as-of", as_of});
    auto r = test::run_leanos(args);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  };
  std::string expected;
  const auto canvas = json_of({"canvas", "show"});
  for (const auto& a : canvas["assumptions"])
    expected += "assumption " + a["id"].get<std::string>() + " " + std::to_string(a["confidence"].get<int>()) + " " +
                a["status"].get<std::string>() + "\n";
  expected += "customers " + std::to_string(canvas["metrics"]["customers"].get<int>()) + "\n";
  expected += "mrr " + std::to_string(canvas["metrics"]["mrr"].get<long>()) + "\n";
  const auto goal = json_of({"goal", "show", "g-mrr-50k"});
  expected += "goal g-mrr-50k " + std::to_string(goal["current"].get<long>()) + " " + std::to_string(goal["target"].get<long>()) +
              (goal["met"].get<bool>() ? " True" : " False") + "\n";
  expected += "risk " + goal["trajectory"]["risk"].get<std::string>() + "\n";
  for (const auto& m : goal["milestones"])
    expected += "milestone " + std::to_string(m["percent"].get<int>()) + " " + m["reached_at"].get<std::string>() + "\n";
  const auto today = json_of({"today"});
  expected += "today " + today["as_of"].get<std::string>() + " " + std::to_string(today["goals"].size()) + " " +
              std::to_string(today["queue"]["approvals"].size()) + "\n";
  const auto pipeline = json_of({"pipeline"});
  for (const auto& d : pipeline["deals"])
    expected += "open " + d["deal_id"].get<std::string>() + " " + d["stage"].get<std::string>() + " " +
                d["next_action"].get<std::string>() + "\n";
  const auto open_deals = json_of({"deal", "list", "--status", "open"});
  for (const auto& d : open_deals["deals"])
    expected += "deal " + d["deal_id"].get<std::string>() + " " + d["status"].get<std::string>() + "\n";
  expected += "error NOT_FOUND\n";
  Server server(data);
  auto py = test::run("/usr/bin/python3", {PYTHON_QUERY, PYTHON_OUT, server.address(), as_of});
  INFO(py.err);
  REQUIRE(py.exit_code == 0);
  CHECK(py.out == expected);
  // Something to compare: the example has a customer and open deals by then.
  CHECK(canvas["metrics"]["customers"].get<int>() > 0);
  CHECK(py.out.find("open ") != std::string::npos);
  CHECK(py.out.find("deal acme-corp stalled\n") != std::string::npos);  // a status word, read from the enum's option
}

TEST_CASE("a rejection carries its rule id and parameters in the gRPC error details, and the CLI words it with commands") {
  test::TempDir dir;
  const std::string data = dir.sub("data");
  test::seed_example(data);
  Server server(data);
  auto py = test::run("/usr/bin/python3", {PYTHON_RULES, PYTHON_OUT, server.address()});
  INFO(py.err);
  REQUIRE(py.exit_code == 0);
  // The rule as data: a stage skipped, an unknown assumption, an unapproved decision.
  CHECK(py.out.find("skip FAILED_PRECONDITION leanos.v1 STAGE_SKIPPED deal_id=zeta needs=2-hypothesis stage=4-decision\n") !=
        std::string::npos);
  CHECK(py.out.find("unknown NOT_FOUND leanos.v1 UNKNOWN_ASSUMPTION assumption_id=A99 known=A4\n") != std::string::npos);
  CHECK(py.out.find("unapproved FAILED_PRECONDITION leanos.v1 APPROVAL_REQUIRED deal_id=zeta impact=0.90 threshold=0.80\n") !=
        std::string::npos);
  // The message over the wire is in domain words; the CLI adds what to run.
  CHECK(py.out.find("needs stage 2 (hypothesis) first\n") != std::string::npos);
  CHECK(py.out.find("leanos deal") == std::string::npos);
  auto cli = test::run_leanos({"--server", server.address(), "deal", "action", "zeta", "sales:lead-intake", "start"});
  CHECK(cli.exit_code == 5);
  CHECK(cli.err.find("is not approved yet; a human approves it with `leanos deal approve zeta --by NAME`") != std::string::npos);
  CHECK(server.stop(SIGTERM) == 0);
  // The same words from the data folder.
  auto local = test::run_leanos({"--data", data, "deal", "action", "zeta", "sales:lead-intake", "start"});
  CHECK(local.err == cli.err);
}

TEST_CASE("with --server CSV imports are one batch through the campaign's actor, and an interested response opens its deal") {
  test::Workspace w;
  w.setup();
  const std::string id = "2026-02-01-fintech-cfo";
  w.ok({"campaign", "open", id, "--segment", "fintech", "--objective", "book 10 demos", "--targets", "50"});
  w.ok({"campaign", "hypothesis", id, "--tests", "A4", "--confidence", "40"});
  w.ok({"campaign", "implication", id, "--responses", "10", "--meetings", "5", "--deals", "2", "--cost-hours", "20"});
  w.ok({"campaign", "decide", id, "launch", "--reason", "cheap test"});
  const std::string contacts = test::write_file(w.dir.sub("contacts.csv"),
                                                "contact name,title,email,company\nAnn,CFO,ann@beta.example,Beta\n");
  w.ok({"campaign", "contacts", id, "--csv", contacts});
  Server server(w.dir.path());
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server.address()});
    return test::run_leanos(args);
  };
  auto stranger = cli({"campaign", "response", id, "--email", "zed@nowhere.example", "--kind", "interested", "--deal", "zed"});
  CHECK(stranger.exit_code == 3);
  CHECK(stranger.err.find("'zed@nowhere.example' is not a contact of campaign '" + id + "'") != std::string::npos);
  auto response = cli({"campaign", "response", id, "--email", "ann@beta.example", "--kind", "interested", "--deal", "beta"});
  INFO(response.err);
  CHECK(response.exit_code == 0);
  auto show = cli({"--json", "campaign", "show", id});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("\"conversions\":1") != std::string::npos);
  auto deal = cli({"--json", "deal", "show", "beta"});
  REQUIRE(deal.exit_code == 0);
  CHECK(deal.out.find("\"source\":\"CAMPAIGN\"") != std::string::npos);
  CHECK(deal.out.find("\"company\":\"Beta\"") != std::string::npos);
  // CSV imports through the server: all rows or none, a retry records nothing new.
  const std::string more = test::write_file(w.dir.sub("more.csv"),
                                            "contact name,title,email,company\nCy,CEO,cy@gamma.example,Gamma\n"
                                            "Di,CTO,di@delta.example,Delta\n");
  auto import = cli({"campaign", "contacts", id, "--csv", more});
  INFO(import.err);
  CHECK(import.exit_code == 0);
  CHECK(import.out.find("recorded 2 ContactAdded in campaign-" + id) != std::string::npos);
  auto again = cli({"campaign", "contacts", id, "--csv", more});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already recorded: 2 ContactAdded") != std::string::npos);
  auto prospects = cli({"--json", "campaign", "show", id});
  CHECK(prospects.out.find("\"contacts\":3") != std::string::npos);
  const std::string stale = test::write_file(w.dir.sub("stale.csv"),
                                             "contact name,title,email,company\nEd,CFO,ed@eps.example,Eps\n");
  auto after_results = cli({"campaign", "contacts", "2026-03-01-no-such", "--csv", stale});
  CHECK(after_results.exit_code != 0);
  CHECK(after_results.err.find("2026-03-01-no-such") != std::string::npos);
  auto unchanged = cli({"--json", "campaign", "show", id});
  CHECK(unchanged.out.find("\"contacts\":3") != std::string::npos);
}

TEST_CASE("raw appends over the wire cannot forge domain events nor mistype a payload") {
  test::TempDir dir;
  Server server(dir.sub("data"));
  v1::AppendResponse out;
  Envelope forged;
  forged.set_type("DealClosed");
  forged.mutable_deal_closed()->set_deal_id("acme");
  forged.mutable_deal_closed()->set_outcome(v1::WON);
  forged.mutable_deal_closed()->set_arr(1'000'000'000'000);
  auto s = append(server.stub(), "deal-acme", {forged}, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find("belongs to the workflow's rules") != std::string::npos);
  s = append(server.stub(), "notes", {forged}, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find("carries a DealClosed payload") != std::string::npos);
  Envelope far = note();
  far.mutable_occurred_at()->set_seconds(std::int64_t{1} << 62);
  CHECK(append(server.stub(), "notes", {far}, &out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  Envelope nanos = note();
  nanos.mutable_occurred_at()->set_seconds(1'700'000'000);
  nanos.mutable_occurred_at()->set_nanos(-5);
  CHECK(append(server.stub(), "notes", {nanos}, &out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext rctx;
  v1::ReadResponse all;
  REQUIRE(server.stub().ReadAll(&rctx, v1::ReadAllRequest(), &all).ok());
  CHECK(all.events_size() == 0);
}

TEST_CASE("events at the size limit reach a default client through ReadAll, ReadStream and Subscribe") {
  test::TempDir dir;
  Server server(dir.sub("data"));
  v1::AppendResponse out;
  // Five events just under 1 MiB each: 5 MiB in all, more than one 4 MiB reply could carry.
  for (int i = 0; i < 5; ++i) {
    Envelope big = note("Big");
    big.mutable_generic()->set_blob(std::string((1 << 20) - 300, static_cast<char>('a' + i)));
    auto s = append(server.stub(), "big", {big}, &out);
    REQUIRE_MESSAGE(s.ok(), s.error_message());
  }
  Envelope over = note("TooBig");
  over.mutable_generic()->set_blob(std::string(1 << 20, 'x'));
  auto refused = append(server.stub(), "big", {over}, &out);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message().find("1 MiB") != std::string::npos);
  REQUIRE(append(server.stub(), "big", {note("End")}, &out).ok());

  std::uint64_t next = 1;
  int pages = 0;
  while (next <= 6) {
    grpc::ClientContext ctx;
    v1::ReadAllRequest req;
    req.set_from_position(next);
    v1::ReadResponse page;
    auto s = server.stub().ReadAll(&ctx, req, &page);
    REQUIRE_MESSAGE(s.ok(), s.error_message());
    REQUIRE(page.events_size() > 0);
    CHECK(page.ByteSizeLong() < 4u << 20);
    next = page.events().rbegin()->position() + 1;
    ++pages;
  }
  CHECK(pages >= 2);
  grpc::ClientContext sctx;
  v1::ReadStreamRequest sreq;
  sreq.set_stream("big");
  v1::ReadResponse stream_page;
  REQUIRE(server.stub().ReadStream(&sctx, sreq, &stream_page).ok());
  CHECK(stream_page.events_size() >= 1);
  CHECK(stream_page.events_size() < 5);

  v1::SubscribeRequest sub;
  sub.set_from_position(1);
  CHECK(collect(server.stub(), sub) == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("subscribers catching up on large events read the store by bytes, and the server's peak memory stays bounded") {
  test::TempDir dir;
  Server server(dir.sub("data"));
  v1::AppendResponse out;
  // 192 events of almost 1 MiB: 192 MB of backlog.
  constexpr int kEvents = 192;
  for (int i = 0; i < kEvents; ++i) {
    Envelope big = note("Big");
    big.mutable_generic()->set_blob(std::string((1 << 20) - 300, static_cast<char>('a' + i % 26)));
    REQUIRE(append(server.stub(), "big", {big}, &out).ok());
  }
  REQUIRE(append(server.stub(), "big", {note("End")}, &out).ok());
  const long before = server.peak_rss_kib();
  REQUIRE(before > 0);
  // Eight subscribers catch up at once, each on its own connection. A server that read a
  // page by event count (1,024 events) would hold the whole backlog once per subscriber.
  constexpr int kSubscribers = 8;
  std::vector<std::vector<std::uint64_t>> got(kSubscribers);
  std::vector<std::thread> subscribers;
  for (int i = 0; i < kSubscribers; ++i)
    subscribers.emplace_back([&, i] {
      grpc::ChannelArguments own;
      own.SetInt("grpc.use_local_subchannel_pool", 1);
      auto stub = v1::Ledger::NewStub(grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), own));
      v1::SubscribeRequest from_start;
      from_start.set_from_position(1);
      got[i] = collect(*stub, from_start, /*wait_for_ready=*/true);
    });
  for (auto& t : subscribers) t.join();
  for (const auto& g : got) {
    CHECK(g.size() == kEvents + 1);
    CHECK(dense_from_1(g));
  }
  const long after = server.peak_rss_kib();
  MESSAGE("server peak RSS " << before / 1024 << " MiB before, " << after / 1024 << " MiB after " << kSubscribers
                             << " subscribers caught up on " << kEvents << " MB");
  // Per subscriber: a page on the wire, one prepared, one read (3 MiB each), and gRPC's
  // buffers; with the block cache, well under the 8 x 192 MB of a read by count.
  CHECK(after - before < 256 * 1024);
}

TEST_CASE("a second server on a port in use refuses to start instead of sharing it") {
  test::TempDir dir;
  Server first(dir.sub("a"));
  const std::string port = first.address().substr(first.address().rfind(':') + 1);
  auto second = test::run_leanos({"--data", dir.sub("b"), "serve", "--listen", "127.0.0.1:" + port});
  CHECK(second.exit_code == 9);
  CHECK(second.err.find("the port is in use") != std::string::npos);
  v1::AppendResponse out;
  CHECK(append(first.stub(), "notes", {note()}, &out).ok());
}

TEST_CASE("with --server, append and log go through the server, verify says where to run, auth failures say so") {
  TokenServer t;
  auto& server = t.server;
  auto cli = [&](std::vector<std::string> args) { return t.cli(std::move(args)); };
  auto a = cli({"append", "notes", "--type", "NoteTaken", "--payload", R"({"text":"hi"})"});
  INFO(a.err);
  CHECK(a.exit_code == 0);
  CHECK(a.out.find("appended 1 event(s) to notes at position 1") != std::string::npos);
  CHECK(cli({"append", "notes", "--type", "NoteTaken"}).exit_code == 0);
  auto log = cli({"log", "--json"});
  CHECK(log.exit_code == 0);
  CHECK(test::count_lines(log.out) == 2);
  CHECK(log.out.find("\"text\":\"hi\"") != std::string::npos);
  auto back = cli({"log", "--stream", "notes", "--backward", "--limit", "1", "--json"});
  CHECK(back.out.find("\"version\":\"2\"") != std::string::npos);
  CHECK(test::count_lines(back.out) == 1);
  auto verify = cli({"verify"});
  CHECK(verify.exit_code == 2);
  CHECK(verify.err.find("cannot go through --server") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("data"));  // no stray local workspace
  auto anonymous = test::run_leanos({"--server", server.address(), "log"});
  CHECK(anonymous.exit_code == 10);
  CHECK(anonymous.err.find("unauthenticated") != std::string::npos);
  CHECK(anonymous.err.find("--token-file") != std::string::npos);
  CHECK(cli({"log", "--backward"}).err.find("give the stream with --stream") != std::string::npos);
  const int stopped = server.stop(SIGTERM);
  CHECK(stopped == 0);
  auto gone = cli({"log"});
  CHECK(gone.exit_code == 11);
  CHECK(gone.err.find("cannot reach the server at") != std::string::npos);
}

TEST_CASE("AppendStream: many appends over one call, answered in order once durable, a refused one answered and the call going on") {
  test::TempDir dir;
  const std::string token_file = test::write_file(dir.sub("token"), "s3cret\n");
  Server server(dir.sub("data"), {"--token-file", token_file});
  {  // Without the token: the call is refused whole.
    grpc::ClientContext ctx;
    auto call = server.stub().AppendStream(&ctx);
    v1::AppendRequest req;
    req.set_stream("s");
    *req.add_events() = note();
    call->Write(req);
    call->WritesDone();
    v1::AppendStreamReply reply;
    CHECK_FALSE(call->Read(&reply));
    CHECK(call->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer s3cret");
  auto call = server.stub().AppendStream(&ctx);
  // 600 appends written before any answer is read: more than the 256 the server takes in
  // flight, so it must stop reading and go on as it answers. Every 100th is refused.
  constexpr int kAppends = 600;
  for (int i = 1; i <= kAppends; ++i) {
    v1::AppendRequest req;
    req.set_stream("s-" + std::to_string(i % 7));
    if (i % 100 == 0) {
      req.set_expected_version("999");  // a conflict
    } else if (i % 100 == 50) {
      req.add_events()->mutable_generic();  // no type
    }
    if (i % 100 != 50) {
      *req.add_events() = note();
      *req.add_events() = note();
    }
    REQUIRE(call->Write(req));
  }
  REQUIRE(call->WritesDone());
  std::uint64_t last_position = 0;
  int recorded = 0;
  for (int i = 1; i <= kAppends; ++i) {
    v1::AppendStreamReply reply;
    REQUIRE(call->Read(&reply));
    CHECK(reply.sequence() == static_cast<std::uint64_t>(i));  // in the order sent
    if (i % 100 == 0) {
      CHECK(reply.code() == static_cast<std::uint32_t>(grpc::StatusCode::FAILED_PRECONDITION));
      CHECK(reply.message().find("expected 999") != std::string::npos);
      CHECK_FALSE(reply.has_appended());
    } else if (i % 100 == 50) {
      CHECK(reply.code() == static_cast<std::uint32_t>(grpc::StatusCode::INVALID_ARGUMENT));
      CHECK(reply.message().find("type") != std::string::npos);
    } else {
      REQUIRE(reply.code() == 0);
      REQUIRE(reply.appended().positions_size() == 2);
      CHECK(reply.appended().stream() == "s-" + std::to_string(i % 7));
      CHECK(reply.appended().positions(0) > last_position);  // one caller's appends keep their order
      last_position = reply.appended().positions(1);
      ++recorded;
    }
  }
  v1::AppendStreamReply extra;
  CHECK_FALSE(call->Read(&extra));
  CHECK(call->Finish().ok());
  CHECK(recorded == kAppends - 12);
  // Acknowledged means written: the log holds exactly those events, and nothing refused.
  auto log = test::run_leanos({"--server", server.address(), "--token-file", token_file, "log", "--json"});
  CHECK(test::count_lines(log.out) == static_cast<std::size_t>(2 * recorded));
  CHECK(last_position == static_cast<std::uint64_t>(2 * recorded));
}

TEST_CASE("a request that does not parse gets INVALID_ARGUMENT naming the message, on every method") {
  test::TempDir dir;
  Server server(dir.sub("data"));
  auto raw = [&](const std::string& method, const std::string& hex, const std::string& mode = "") {
    std::vector<std::string> args = {RAW_CLIENT, server.address(), "/leanos.v1.Ledger/" + method, hex};
    if (!mode.empty()) args.push_back(mode);
    auto r = test::run("/usr/bin/python3", args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  // 0xff is no field tag protobuf can read; 0x0a 0x02 0xc3 0x28 is field 1 holding "\xc3(", not UTF-8.
  CHECK(raw("Append", "ffffffff").rfind("INVALID_ARGUMENT|cannot read the request as leanos.v1.AppendRequest", 0) == 0);
  CHECK(raw("Append", "0a02c328").rfind("INVALID_ARGUMENT|cannot read the request as leanos.v1.AppendRequest", 0) == 0);
  CHECK(raw("Command", "ffff").rfind("INVALID_ARGUMENT|cannot read the request as leanos.v1.CommandRequest", 0) == 0);
  CHECK(raw("Query", "ffff").rfind("INVALID_ARGUMENT|", 0) == 0);
  CHECK(raw("ReadAll", "ffff").rfind("INVALID_ARGUMENT|", 0) == 0);
  CHECK(raw("Forget", "ffff").rfind("INVALID_ARGUMENT|", 0) == 0);
  CHECK(raw("Subscribe", "1a02c328", "stream").rfind("INVALID_ARGUMENT|cannot read the request as leanos.v1.SubscribeRequest", 0) == 0);
  // In an AppendStream call, each message that does not parse is answered so, and the call goes on.
  const auto replies = raw("AppendStream", "ffffffff", "bidi");
  REQUIRE(replies.rfind("OK|", 0) == 0);
  std::vector<std::string> hex;
  for (std::size_t at = 3; at < replies.size();) {
    const auto bar = replies.find_first_of("|\n", at);
    hex.push_back(replies.substr(at, bar - at));
    at = bar == std::string::npos ? replies.size() : bar + 1;
  }
  REQUIRE(hex.size() >= 2);
  for (int i = 0; i < 2; ++i) {
    std::string bytes;
    for (std::size_t k = 0; k + 1 < hex[static_cast<std::size_t>(i)].size(); k += 2)
      bytes.push_back(static_cast<char>(std::stoi(hex[static_cast<std::size_t>(i)].substr(k, 2), nullptr, 16)));
    v1::AppendStreamReply reply;
    REQUIRE(reply.ParseFromString(bytes));
    CHECK(reply.sequence() == static_cast<std::uint64_t>(i + 1));
    CHECK(reply.code() == static_cast<std::uint32_t>(grpc::StatusCode::INVALID_ARGUMENT));
    CHECK(reply.message().find("cannot read the request as leanos.v1.AppendRequest") != std::string::npos);
  }
  v1::AppendResponse out;
  CHECK(append(server.stub(), "notes", {note()}, &out).ok());  // and it still serves
}

TEST_CASE("out of file descriptors the server refuses new connections, and serves again once they close") {
  test::TempDir dir;
  Server server(dir.sub("data"), {}, 128);  // 128 descriptors: a few dozen connections exhaust them
  const std::string port = server.address().substr(server.address().rfind(':') + 1);
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {  // idle TCP connections, as a careless or hostile client leaves them
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    idle.push_back(fd);
  }
  // Exhausted: a new client is told (the connection is closed) or, once gRPC has shed some
  // of the idle ones, served; it does not hang.
  auto during = test::run_leanos({"--server", server.address(), "log"});
  CHECK((during.exit_code == 11 || during.exit_code == 0));
  for (int fd : idle) ::close(fd);
  // Released: the listener still works (gRPC 1.51's own stopped for good after EMFILE).
  auto fresh = v1::Ledger::NewStub(grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::AppendRequest req;
  req.set_stream("notes");
  *req.add_events() = note();
  v1::AppendResponse out;
  auto s = fresh->Append(&ctx, req, &out);
  INFO(s.error_message());
  CHECK(s.ok());
}

TEST_CASE("a subscription filtered on a near miss of a domain event type is refused instead of waiting for ever") {
  test::TempDir dir;
  Server server(dir.sub("data"));
  v1::AppendResponse out;
  REQUIRE(append(server.stub(), "notes", {note("NoteTaken")}, &out).ok());
  auto typo = test::run_leanos({"subscribe", "--server", server.address(), "--type", "ActionStart"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("there is no event type 'ActionStart'; did you mean 'ActionStarted'?") != std::string::npos);
  auto lower = test::run_leanos({"subscribe", "--server", server.address(), "--type", "dealclosed"});
  CHECK(lower.exit_code == 2);
  CHECK(lower.err.find("did you mean 'DealClosed'?") != std::string::npos);
  // A generic type of the caller's own is a fine filter.
  auto own = test::run_leanos({"subscribe", "--server", server.address(), "--type", "NoteTaken", "--limit", "1"});
  CHECK(own.exit_code == 0);
  CHECK(own.out.find("\"type\":\"NoteTaken\"") != std::string::npos);
  // ...and the CLI says it waits for a custom type, not for a domain event.
  CHECK(own.err.find("'NoteTaken' is not a domain event type: waiting for custom events of that type") != std::string::npos);
}

TEST_CASE("Forget over gRPC erases a contact for every reader, and subscribers receive SubjectForgotten") {
  TokenServer t;
  auto cli = [&](std::vector<std::string> args) { return t.cli(std::move(args)); };
  REQUIRE(cli({"deal", "open", "acme", "--company", "Acme", "--segment", "enterprise", "--source", "inbound",
               "--contact-name", "Jane Roe", "--contact-email", "jane@acme.example", "--signal", "demo request"})
              .exit_code == 0);
  // A subscriber that has read the lead already, live when the erasure comes.
  auto before = cli({"subscribe", "--from", "1", "--limit", "1"});
  CHECK(before.out.find("Jane Roe") != std::string::npos);

  auto unknown = cli({"forget", "nobody@nowhere.example", "--reason", "request"});
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err.find("no data subject 'nobody@nowhere.example'") != std::string::npos);
  auto forgot = cli({"--actor", "dpo", "forget", "jane@acme.example", "--reason", "erasure request"});
  INFO(forgot.err);
  REQUIRE(forgot.exit_code == 0);
  CHECK(forgot.out.find("at position 2") != std::string::npos);

  auto sub = cli({"subscribe", "--from", "1", "--limit", "2"});
  REQUIRE(sub.exit_code == 0);
  CHECK(sub.out.find("Jane") == std::string::npos);
  CHECK(sub.out.find("jane@") == std::string::npos);
  CHECK(sub.out.find("[erased]") != std::string::npos);
  CHECK(sub.out.find("\"type\":\"SubjectForgotten\"") != std::string::npos);
  auto shown = cli({"deal", "show", "acme"});
  CHECK(shown.out.find("Jane") == std::string::npos);
  CHECK(shown.out.find("Acme") != std::string::npos);
  auto again = cli({"forget", "jane@acme.example", "--reason", "again"});
  CHECK(again.exit_code == 3);
}

TEST_CASE("short calls that end while their answers are on the way: every AppendStream answered, every subscription ended") {
  // Each AppendStream call sends one append and closes at once, so the call's end (the
  // client's close, the last answer written) races with the store's answer on its writer
  // thread; each subscription is cancelled while its catch-up read may still be running.
  // The server used to finish such a call from one thread while another still used it
  // (found by AddressSanitizer in CI); here every call must end cleanly, and the server live.
  test::TempDir dir;
  Server server(dir.sub("data"));
  {
    std::vector<Envelope> batch(2000, note());
    v1::AppendResponse out;
    REQUIRE(append(server.stub(), "backlog", batch, &out).ok());
  }
  std::atomic<int> answered{0}, ended{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        {
          grpc::ClientContext ctx;
          auto call = server.stub().AppendStream(&ctx);
          v1::AppendRequest req;
          req.set_stream("short-" + std::to_string(t));
          *req.add_events() = note();
          call->Write(req);
          call->WritesDone();
          v1::AppendStreamReply reply;
          if (call->Read(&reply) && reply.code() == 0 && reply.appended().positions_size() == 1) ++answered;
          v1::AppendStreamReply extra;
          if (!call->Read(&extra) && call->Finish().ok()) ++ended;
        }
        {
          grpc::ClientContext ctx;
          v1::SubscribeRequest req;
          req.set_from_position(1 + static_cast<std::uint64_t>(i));
          auto reader = server.stub().Subscribe(&ctx, req);
          v1::SubscribePage page;
          if (i % 2 == 0) reader->Read(&page);  // cancelled after its first page, or before any
          ctx.TryCancel();
          while (reader->Read(&page)) {
          }
          if (reader->Finish().error_code() == grpc::StatusCode::CANCELLED) ++ended;
        }
      }
    });
  for (auto& c : clients) c.join();
  CHECK(answered == 240);
  CHECK(ended == 480);
  v1::AppendResponse out;
  CHECK(append(server.stub(), "after", {note()}, &out).ok());
  CHECK(out.positions(0) == 2000 + 240 + 1);
}

namespace {
std::string bytes_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("with --server, import sends the folder to the server, and export, files and checkout read the server's ledger") {
  TokenServer t;
  test::TempDir here;
  const std::string ws = here.sub("ws");
  std::filesystem::copy(LEANOS_SEED_FIXTURE, ws, std::filesystem::copy_options::recursive);
  auto imported = t.cli({"import", ws});
  INFO(imported.err);
  CHECK(imported.exit_code == 0);
  CHECK(imported.out.find("imported 20 events from 16 files") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("data"));  // recorded by the server, not into a local data folder
  auto deals = t.cli({"deal", "list"});
  CHECK(deals.out.find("acme") != std::string::npos);
  auto again = t.cli({"import", ws});
  CHECK(again.out.find("imported 0 events from 16 files") != std::string::npos);
  // What comes back through the server is what was written.
  auto checkout = t.cli({"checkout", here.sub("back")});
  INFO(checkout.err);
  CHECK(checkout.exit_code == 0);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(ws))
    if (entry.is_regular_file()) {
      const auto rel = std::filesystem::relative(entry.path(), ws);
      CHECK_MESSAGE(bytes_of(entry.path()) == bytes_of(std::filesystem::path(here.sub("back")) / rel), rel.string());
    }
  auto exported = t.cli({"export", here.sub("export")});
  CHECK(exported.exit_code == 0);
  CHECK(exported.out.find("1 deal threads") != std::string::npos);
  auto git = t.cli({"import", "--git", ws});
  CHECK(git.exit_code != 0);
  CHECK(git.err.find("import --git reads the repository's history into the data folder where it runs") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("data"));
}
