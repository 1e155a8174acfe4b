// `leanos serve --http`: the JSON API and the event stream of the dashboard, through a real
// server process, with cpp-httplib's client. The page itself is tested in a real browser
// (tests/browser_test.py).
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <set>

#include "tests/server_support.h"
#include "tools/cli/view_text.h"

using namespace leanos;
using test::Server;

namespace {

// A server on a copy of the seed's example, with the dashboard on.
struct Seeded {
  test::TempDir dir;
  std::string data = dir.sub("data");
  Seeded() { test::seed_example(data); }
};

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// The Query RPC's answer, as the CLI's --json prints it.
std::string rpc_json(Server& server, v1::QueryRequest q) {
  grpc::ClientContext ctx;
  v1::QueryReply reply;
  const auto s = server.stub().Query(&ctx, q, &reply);
  REQUIRE_MESSAGE(s.ok(), s.error_message());
  return cli::view_json(reply);
}

// Reads the event stream until `enough` says so; the positions in order.
std::vector<std::uint64_t> stream(httplib::Client& http, const httplib::Headers& headers, const std::string& path,
                                  const std::function<bool(std::uint64_t)>& enough) {
  std::vector<std::uint64_t> got;
  std::string buffer;
  http.Get(path.c_str(), headers, [&](const char* data, std::size_t size) {
    buffer.append(data, size);
    for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
      const std::string block = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (block.rfind("id: ", 0) != 0) continue;  // a comment: hello, keep-alive
      const auto position = std::stoull(block.substr(4, block.find('\n') - 4));
      const auto data_at = block.find("\ndata: ");
      REQUIRE(data_at != std::string::npos);
      const auto event = nlohmann::json::parse(block.substr(data_at + 7));
      CHECK(event["position"] == std::to_string(position));
      got.push_back(position);
      if (enough(position)) return false;
    }
    return true;
  });
  return got;
}

}  // namespace

TEST_CASE("every HTTP view is the Query RPC's view for the same query, time travel included") {
  Seeded s;
  Server server(s.data, {"--http", "127.0.0.1:0"});
  httplib::Client http("127.0.0.1", server.http_port());
  struct Case {
    std::string path;
    std::function<void(v1::QueryRequest&)> query;
  };
  const std::vector<Case> cases = {
      {"/api/v1/canvas", [](auto& q) { q.mutable_canvas(); }},
      {"/api/v1/canvas?as_of=2026-01-01", [](auto& q) { q.mutable_canvas(), q.set_as_of("2026-01-01"); }},
      {"/api/v1/canvas?at_position=40", [](auto& q) { q.mutable_canvas(), q.set_at_position(40); }},
      {"/api/v1/goals/g-mrr-50k?as_of=2026-01-06", [](auto& q) { q.mutable_goal()->set_goal_id("g-mrr-50k"), q.set_as_of("2026-01-06"); }},
      {"/api/v1/metrics?segment=enterprise&as_of=2026-02-01",
       [](auto& q) { q.mutable_metrics()->set_segment("enterprise"), q.set_as_of("2026-02-01"); }},
      {"/api/v1/pipeline?as_of=2026-01-10", [](auto& q) { q.mutable_pipeline(), q.set_as_of("2026-01-10"); }},
      {"/api/v1/today?as_of=2026-01-10", [](auto& q) { q.mutable_today(), q.set_as_of("2026-01-10"); }},
      {"/api/v1/deals?status=won&as_of=2026-02-01",
       [](auto& q) { q.mutable_deals()->set_status(v1::DEAL_WON), q.set_as_of("2026-02-01"); }},
      {"/api/v1/deals/acme-corp?as_of=2026-01-15", [](auto& q) { q.mutable_deal()->set_deal_id("acme-corp"), q.set_as_of("2026-01-15"); }},
      {"/api/v1/audit/acme-corp", [](auto& q) { q.mutable_audit()->set_deal_id("acme-corp"); }},
      {"/api/v1/why/A4", [](auto& q) { q.mutable_why_canvas()->set_assumption_id("A4"); }},
      {"/api/v1/opportunities?as_of=2026-01-20", [](auto& q) { q.mutable_opportunities(), q.set_as_of("2026-01-20"); }},
      {"/api/v1/segments", [](auto& q) { q.mutable_segments(); }},
      {"/api/v1/documents", [](auto& q) { q.mutable_documents(); }},
      {"/api/v1/files?at_position=40", [](auto& q) { q.mutable_files(), q.set_at_position(40); }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    auto res = http.Get(c.path.c_str());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    CHECK(!res->has_header("Access-Control-Allow-Origin"));  // CORS closed
    v1::QueryRequest q;
    c.query(q);
    CHECK(res->body == rpc_json(server, q));
  }
  // Every goal at once: the today view's goals.
  auto goals = http.Get("/api/v1/goals?as_of=2026-03-01");
  REQUIRE(goals);
  const auto j = nlohmann::json::parse(goals->body);
  REQUIRE(j["goals"].size() == 1);
  CHECK(j["goals"][0]["current"] == 50000);
  // One file's versions: its path as a parameter (it has '/' in it).
  auto log = http.Get("/api/v1/files?path=strategy/canvas/07-uvp.md");
  REQUIRE(log);
  CHECK(log->status == 404);
  CHECK(log->body.find("no file 'strategy/canvas/07-uvp.md' was recorded") != std::string::npos);
  // Time travel changes the answer.
  CHECK(nlohmann::json::parse(http.Get("/api/v1/canvas?as_of=2025-12-15")->body)["assumptions"][0]["confidence"] == 70);
}

TEST_CASE("bad HTTP requests get JSON errors naming what was wrong: 400, 404, and 401 without the token") {
  Seeded s;
  const std::string token_file = test::write_file(s.dir.sub("token"), "s3cret\n");
  Server server(s.data, {"--token-file", token_file, "--http", "127.0.0.1:0"});
  httplib::Client http("127.0.0.1", server.http_port());
  auto error_of = [](const httplib::Result& r) { return nlohmann::json::parse(r->body)["error"]; };

  auto anonymous = http.Get("/api/v1/canvas");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(anonymous->get_header_value("WWW-Authenticate") == "Bearer");
  CHECK(error_of(anonymous)["code"] == "UNAUTHENTICATED");
  auto wrong = http.Get("/api/v1/canvas", bearer("guess"));
  CHECK(wrong->status == 401);
  CHECK(error_of(wrong)["message"] == "wrong token");
  CHECK(http.Get("/api/v1/events", bearer("guess"))->status == 401);
  // The page holds no data: it loads without the token, and asks for it.
  auto page = http.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("<dialog id=\"login\">") != std::string::npos);

  const auto ok = bearer("s3cret");
  CHECK(http.Get("/api/v1/canvas", ok)->status == 200);
  // The two axes combine: the canvas of March 1 as the ledger knew it long before (nothing).
  auto both = http.Get("/api/v1/canvas?as_of=2026-03-01&known_at=2020-01-01", ok);
  REQUIRE(both);
  CHECK(both->status == 200);
  CHECK(nlohmann::json::parse(both->body)["assumptions"].empty());
  struct Bad {
    std::string path;
    int status;
    std::string says;
  };
  for (const auto& b : std::vector<Bad>{
           {"/api/v1/canvas?as_of=2026-13-01", 400, "malformed date '2026-13-01'"},
           {"/api/v1/canvas?at_position=ten", 400, "at_position 'ten' is not a whole number"},
           {"/api/v1/canvas?known_at=yesterday", 400, "--known-at: malformed"},
           {"/api/v1/canvas?colour=red", 400, "parameter 'colour' is not one /api/v1/canvas takes"},
           {"/api/v1/deals?status=maybe", 400, "status 'maybe' is not one of open, won, lost, stalled"},
           {"/api/v1/goals/g-nope", 404, "goal 'g-nope' does not exist"},
           {"/api/v1/deals/nobody", 404, "deal 'nobody' does not exist"},
           {"/api/v1/why/A99", 404, "A99"},
           {"/api/v1/audit", 400, "give the deal's id"},
           {"/api/v1/teapot", 404, "no view 'teapot'"},
           {"/api/v2/canvas", 404, "no such resource: /api/v2/canvas"},
           {"/api/v1/events?from=x", 400, "from 'x' is not a whole number"},
           {"/api/v1/events?type=DealClosd", 400, "did you mean 'DealClosed'"},
           // Bytes that are not UTF-8 in a path id were a 500 that logged nothing; a parameter
           // given twice was taken silently.
           {"/api/v1/deals/%ff", 400, "the request's path is not valid UTF-8: byte 0xff"},
           {"/api/v1/canvas?as_of=%c3", 400, "query parameter as_of is not valid UTF-8"},
           {"/api/v1/canvas?as_of=2026-01-01&as_of=2026-02-01", 400, "query parameter as_of is given 2 times; give it once"},
       }) {
    CAPTURE(b.path);
    auto r = http.Get(b.path.c_str(), ok);
    REQUIRE(r);
    CHECK(r->status == b.status);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    const std::string message = error_of(r)["message"];
    CHECK_MESSAGE(message.find(b.says) != std::string::npos, message);
  }
}

TEST_CASE("the event stream catches up from Last-Event-ID, then goes live, with no gap and no duplicate") {
  Seeded s;
  Server server(s.data, {"--http", "127.0.0.1:0"});
  httplib::Client http("127.0.0.1", server.http_port());
  http.set_read_timeout(30, 0);
  const std::uint64_t last = [&] {
    grpc::ClientContext ctx;
    v1::ReadAllRequest req;
    req.set_from_position(1);
    req.set_limit(1);
    v1::ReadResponse out;
    REQUIRE(server.stub().ReadAll(&ctx, req, &out).ok());
    return out.last_position();
  }();
  REQUIRE(last > 100);
  // From the start, broken off at 60.
  auto first = stream(http, {}, "/api/v1/events?from=1", [](std::uint64_t p) { return p == 60; });
  REQUIRE(first.size() == 60);
  CHECK(test::dense_from_1(first));
  // Resumed after 60: the rest of the history, then an event appended while it streams.
  bool appended = false;
  auto second = stream(http, {{"Last-Event-ID", "60"}}, "/api/v1/events", [&](std::uint64_t p) {
    if (p == last && !appended) {
      v1::AppendResponse out;
      REQUIRE(test::append(server.stub(), "notes", {test::note()}, &out).ok());
      appended = true;
    }
    return p == last + 1;
  });
  REQUIRE(second.size() == last + 1 - 60);
  for (std::size_t i = 0; i < second.size(); ++i) CHECK(second[i] == 61 + i);
  // A type filter: only those types, positions still increasing.
  std::vector<std::uint64_t> closed;
  stream(http, {}, "/api/v1/events?from=1&type=DealClosed&type=NoteTaken", [&](std::uint64_t p) {
    closed.push_back(p);
    return p == last + 1;  // the note appended above ends it
  });
  CHECK(closed.size() == 6);  // five deals closed, and the note
  CHECK(std::is_sorted(closed.begin(), closed.end()));
}
