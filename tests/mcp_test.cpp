// The MCP server in process: the protocol's edges (what a malformed, unknown, early or huge
// message gets), the tools' schemas against the payloads they parse, a deal recorded through
// tools with a rule's refusal as a tool error, --read-only, and a resource subscription told
// of a change. The official SDK drives the real binary in tests/mcp/client_test.mjs.
#include <doctest/doctest.h>

#include <cstdio>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "actors/ledger.h"
#include "tests/support.h"
#include "tools/bridge/import_command.h"
#include "tools/mcp/http.h"
#include "tools/mcp/mcp.h"
#include "tools/mcp/schema.h"

using namespace leanos;
using nlohmann::json;

namespace {

std::unique_ptr<store::EventStore> open_store(const test::TempDir& dir) {
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  auto s = store::EventStore::open(dir.path() + "/data", relaxed);
  REQUIRE(s.is_ok());
  return std::move(*s);
}

// A server over a fresh ledger, initialized, with what it sent outside its answers.
struct Session {
  test::TempDir dir;
  std::unique_ptr<store::EventStore> store = open_store(dir);
  LocalLedger ledger{*store};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<json> sent;
  mcp::Server server;
  int next_id = 1;

  explicit Session(bool read_only = false, bool import = false)
      : server(ledger, mcp::Options{read_only, "", "test", import}, [this](const json& m) {
          std::lock_guard lock(mu);
          sent.push_back(m);
          cv.notify_all();
        }) {
    ledger.set_importer(cli::importer());
    auto init = call("initialize", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}, {"clientInfo", {{"name", "mcp-test"}, {"version", "1"}}}});
    REQUIRE(init.contains("result"));
    CHECK(init["result"]["protocolVersion"] == "2025-06-18");
    CHECK(!server.handle({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}).has_value());
  }
  json call(const std::string& method, json params = json::object()) {
    auto answer = server.handle({{"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", params}});
    REQUIRE(answer.has_value());
    return *answer;
  }
  json tool(const std::string& name, json arguments) {
    auto answer = call("tools/call", {{"name", name}, {"arguments", arguments}});
    REQUIRE_MESSAGE(answer.contains("result"), answer.dump());
    return answer["result"];
  }
  // The first notification sent, waited for up to 30 s.
  std::optional<json> notification() {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return !sent.empty(); });
    if (sent.empty()) return std::nullopt;
    return sent.front();
  }
};

json lead(const std::string& id) {
  return {{"deal_id", id},     {"company", "Acme"},  {"segment", "enterprise"}, {"source", "INBOUND"},
          {"channel", "website"}, {"contact", {{"name", "Jane Roe"}, {"title", "VP Ops"}, {"email", "jane@acme.example"}}},
          {"signal", "demo request"}, {"occurred_at", "2026-03-01"}};
}

}  // namespace

TEST_CASE("MCP tools take their schemas from the payloads and queries, described by the .proto's comments") {
  Session s;
  auto tools = s.call("tools/list")["result"]["tools"];
  REQUIRE(tools.size() == mcp::Server::command_tools().size() + mcp::Server::view_tools().size() + 2);  // and goals, whatif
  for (const auto& t : tools) {
    INFO(t["name"]);
    CHECK(t["inputSchema"]["type"] == "object");
    CHECK(t["outputSchema"]["type"] == "object");
    CHECK(!t["description"].get<std::string>().empty());
  }
  // A command's fields are its payload's, plus when and which id; nothing of the payload is shadowed.
  for (const auto& tool : mcp::Server::command_tools()) {  // pair members: clang refuses bindings in doctest's lambdas
    const auto* type = Envelope::descriptor()->FindFieldByName(tool.second);
    REQUIRE_MESSAGE(type != nullptr, tool.second);
    CHECK(type->message_type()->FindFieldByName("occurred_at") == nullptr);
    CHECK(type->message_type()->FindFieldByName("event_id") == nullptr);
  }
  auto open = std::find_if(tools.begin(), tools.end(), [](const json& t) { return t["name"] == "deal_open"; });
  REQUIRE(open != tools.end());
  const auto& props = (*open)["inputSchema"]["properties"];
  CHECK(props.contains("deal_id"));
  CHECK(props["source"]["enum"] == json{"INBOUND", "OUTBOUND", "CAMPAIGN"});
  CHECK(props["channel"]["description"].get<std::string>().find("website | referral") != std::string::npos);
  CHECK(props["contact"]["properties"].contains("email"));
  CHECK((*open)["inputSchema"]["additionalProperties"] == false);
  // A view's enums are the words the CLI's JSON prints.
  auto deal = std::find_if(tools.begin(), tools.end(), [](const json& t) { return t["name"] == "deals"; });
  REQUIRE(deal != tools.end());
  CHECK((*deal)["inputSchema"]["properties"].contains("as_of"));
  CHECK(mcp::comment_of("leanos.v1.LeadCaptured.channel").find("campaign:{id}") != std::string::npos);
}

TEST_CASE("MCP records a deal through tools, and a rule's refusal is a tool error naming the rule and the tool to call") {
  Session s;
  auto opened = s.tool("deal_open", lead("acme"));
  REQUIRE_MESSAGE(!opened.contains("isError"), opened.dump());
  CHECK(opened["structuredContent"]["stream"] == "deal-acme");
  CHECK(opened["structuredContent"]["events"][0]["type"] == "LeadCaptured");
  CHECK(opened["structuredContent"]["events"][0]["actor"] == "mcp-test");  // the client's name from initialize

  // A decision before the hypothesis: refused, nothing recorded, the hint names the tool.
  const auto last = s.store->last_position();
  auto refused = s.tool("deal_decide", {{"deal_id", "acme"}, {"verdict", "QUALIFY"}, {"reason", "fit"}, {"occurred_at", "2026-03-02"}});
  CHECK(refused["isError"] == true);
  CHECK(refused["_meta"]["leanos/rule"] == "STAGE_SKIPPED");
  const std::string text = refused["content"][0]["text"];
  CHECK(text.find("deal_hypothesis") != std::string::npos);
  CHECK(text.find("leanos ") == std::string::npos);  // no CLI words
  CHECK(s.store->last_position() == last);

  // A field the payload does not have: refused by the parser, naming it.
  auto unknown = s.tool("deal_hypothesis", {{"deal_id", "acme"}, {"tests", "A4"}});
  CHECK(unknown["isError"] == true);
  CHECK(unknown["content"][0]["text"].get<std::string>().find("tests") != std::string::npos);

  // The same id again records nothing twice.
  json retry = lead("acme");
  retry["event_id"] = opened["structuredContent"]["events"][0]["event_id"];
  auto again = s.tool("deal_open", retry);
  REQUIRE_MESSAGE(again.count("isError") == 0, again.dump());
  CHECK(again["structuredContent"]["idempotent_retry"] == true);
  auto view = s.tool("deal", {{"deal_id", "acme"}});
  REQUIRE_MESSAGE(!view.contains("isError"), view.dump());
  CHECK(view["structuredContent"]["deal_id"] == "acme");
  CHECK(view["content"][0]["text"].get<std::string>().find("Acme") != std::string::npos);
  // As of a date before the lead: no such deal then.
  auto earlier = s.tool("deal", {{"deal_id", "acme"}, {"as_of", "2026-02-01"}});
  CHECK(earlier["isError"] == true);
}

TEST_CASE("MCP with --read-only lists the views only and refuses a command") {
  Session s(true);
  const json tools = s.call("tools/list")["result"]["tools"];  // a copy: the answer is a temporary
  for (const auto& t : tools) CHECK((mcp::Server::view_tools().count(t["name"]) == 1 || t["name"] == "goals" || t["name"] == "whatif"));
  auto refused = s.tool("deal_open", lead("acme"));
  CHECK(refused["isError"] == true);
  CHECK(refused["content"][0]["text"].get<std::string>().find("read-only") != std::string::npos);
  auto save = s.tool("whatif", {{"query", {{"canvas", json::object()}}}, {"without", {{{"deal_id", "acme"}}}}, {"save", "no-acme"}});
  CHECK(save["isError"] == true);
  CHECK(save["content"][0]["text"].get<std::string>().find("saves no scenario") != std::string::npos);
  CHECK(s.store->last_position() == 0);
}

TEST_CASE("MCP answers malformed, unknown, early and oversized messages with JSON-RPC errors and goes on") {
  test::TempDir dir;
  auto store = open_store(dir);
  LocalLedger ledger(*store);
  std::string input;
  input += "{not json\n";
  input += "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n";                // a batch
  input += "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n";            // before initialize
  input += "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"1999-01-01\"}}\n";
  input += "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"no/such\"}\n";
  input += "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}\n";
  input += "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":[]}\n";
  input += "{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"ping\"}\n";
  input += "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"ping\"}\n";
  input += "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\",\"params\":{\"pad\":\"" + std::string(mcp::kMaxMessageBytes, 'x') + "\"}}\n";
  input += std::string(100000, '[') + "\n";  // deep nesting
  input += "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}}\n";
  input += "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}";  // the last, without a newline
  const std::string in_path = test::write_file(dir.sub("in"), input);
  const int in = ::open(in_path.c_str(), O_RDONLY);
  REQUIRE(in >= 0);
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  CHECK(mcp::serve_stdio(ledger, mcp::Options{}, in, out) == 0);
  ::close(in);
  std::rewind(out);
  std::vector<json> answers;
  char* line = nullptr;
  std::size_t cap = 0;
  while (getline(&line, &cap, out) > 0) answers.push_back(json::parse(line));
  std::free(line);
  std::fclose(out);

  REQUIRE(answers.size() == 12);
  auto code = [&](std::size_t i) { return answers[i]["error"]["code"].get<int>(); };
  CHECK(code(0) == -32700);
  CHECK(code(1) == -32600);
  CHECK(code(2) == -32600);
  CHECK(answers[2]["id"] == 2);
  CHECK(answers[3]["result"]["protocolVersion"] == mcp::kProtocolVersions[0]);  // an unknown version: ours
  CHECK(code(4) == -32601);
  CHECK(code(5) == -32602);
  CHECK(code(6) == -32602);
  CHECK(code(7) == -32600);
  CHECK(code(8) == -32600);
  CHECK(code(9) == -32600);
  CHECK(answers[9]["error"]["message"].get<std::string>().find("larger than") != std::string::npos);
  CHECK(code(10) == -32700);
  CHECK(answers[11]["id"] == 9);
  CHECK(answers[11]["result"] == json::object());
}

TEST_CASE("MCP tells a resource's subscriber when the ledger records what changes the view") {
  Session s;
  REQUIRE(s.tool("canvas_assume", {{"assumption_id", "A4"}, {"statement", "Enterprise prefers white-label"}, {"confidence", 60},
                                   {"occurred_at", "2026-03-01"}})
              .count("isError") == 0);
  auto read = s.call("resources/read", {{"uri", "leanos://canvas"}});
  REQUIRE_MESSAGE(read.contains("result"), read.dump());
  CHECK(read["result"]["contents"][0]["text"].get<std::string>().find("A4") != std::string::npos);
  CHECK(s.call("resources/read", {{"uri", "leanos://nothing"}})["error"]["code"] == -32002);
  CHECK(s.call("resources/subscribe", {{"uri", "leanos://canvas"}}).contains("result"));
  CHECK(s.call("resources/subscribe", {{"uri", "leanos://deals/nobody"}})["error"]["code"] == -32002);
  auto revised = s.tool("canvas_revise", {{"assumption_id", "A4"}, {"confidence", 80}, {"evidence", "review"}, {"occurred_at", "2026-03-02"}});
  REQUIRE_MESSAGE(revised.count("isError") == 0, revised.dump());
  auto n = s.notification();
  REQUIRE(n.has_value());
  CHECK((*n)["method"] == "notifications/resources/updated");
  CHECK((*n)["params"]["uri"] == "leanos://canvas");
  // As of a date: the resource travels in time.
  auto then = s.call("resources/read", {{"uri", "leanos://canvas?as_of=2026-03-01"}});
  REQUIRE(then.contains("result"));
  auto canvas = json::parse(then["result"]["contents"][0]["text"].get<std::string>());
  CHECK(canvas.dump().find("80") == std::string::npos);
}

TEST_CASE("MCP's prompts are the seed's routines, filled from the views") {
  Session s;
  auto list = s.call("prompts/list")["result"]["prompts"];
  CHECK(list.size() == 4);
  REQUIRE(s.tool("deal_open", lead("acme")).count("isError") == 0);
  auto qualify = s.call("prompts/get", {{"name", "qualify_lead"}, {"arguments", {{"deal_id", "acme"}}}});
  REQUIRE_MESSAGE(qualify.contains("result"), qualify.dump());
  const std::string text = qualify["result"]["messages"][0]["content"]["text"];
  CHECK(text.find("Acme") != std::string::npos);
  CHECK(text.find("deal_hypothesis") != std::string::npos);
  CHECK(s.call("prompts/get", {{"name", "qualify_lead"}})["error"]["code"] == -32602);
  CHECK(s.call("prompts/get", {{"name", "morning_review"}}).contains("result"));
}

TEST_CASE("bench mcp times views and commands through a real leanos mcp child") {
  test::TempDir dir;
  auto r = test::run_leanos({"bench", "mcp", "--events", "2000", "--calls", "5", "--json", "--dir", dir.sub("bench")});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto j = json::parse(r.out);
  REQUIRE(j["rows"].size() == 1);
  const auto& row = j["rows"][0];
  CHECK(row["events"] == 2000);
  for (const char* cell : {"view_p50_ms", "view_p99_ms", "deal_p50_ms", "command_p50_ms", "command_p99_ms"}) CHECK(row[cell].get<double>() > 0);
}

TEST_CASE("MCP over HTTP: a session from initialize, 400 without its id, 404 for an unknown one, 202 for a notification, DELETE ends it") {
  test::TempDir dir;
  auto store = open_store(dir);
  LocalLedger ledger(*store);
  httplib::Server http;
  mcp::HttpTransport transport(mcp::Options{}, [&](const httplib::Request&) -> Result<mcp::HttpWorkspace> {
    return mcp::HttpWorkspace{&ledger, "", nullptr};
  });
  transport.add_routes(http, "/mcp");
  const int port = http.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serving([&] { http.listen_after_bind(); });
  httplib::Client client("127.0.0.1", port);
  auto post = [&](const json& body, const std::string& session) {
    httplib::Headers headers{{"Accept", "application/json, text/event-stream"}};
    if (!session.empty()) headers.emplace("Mcp-Session-Id", session);
    return client.Post("/mcp", headers, body.dump(), "application/json");
  };
  auto init = post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", {{"protocolVersion", "2025-11-25"}}}}, "");
  REQUIRE(init);
  CHECK(init->status == 200);
  const std::string session = init->get_header_value("Mcp-Session-Id");
  CHECK(!session.empty());
  CHECK(json::parse(init->body)["result"]["protocolVersion"] == "2025-11-25");
  CHECK(post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, session)->status == 202);
  auto tools = post({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}}, session);
  CHECK(tools->status == 200);
  CHECK(json::parse(tools->body)["result"]["tools"].size() > 40);
  CHECK(post({{"jsonrpc", "2.0"}, {"id", 3}, {"method", "ping"}}, "")->status == 400);
  CHECK(post({{"jsonrpc", "2.0"}, {"id", 4}, {"method", "ping"}}, "no-such-session")->status == 404);
  CHECK(client.Post("/mcp", {{"Mcp-Session-Id", session}}, "{not json", "application/json")->status == 400);
  CHECK(client.Get("/mcp", {{"Mcp-Session-Id", session}, {"Accept", "application/json"}})->status == 405);
  CHECK(client.Post("/mcp", {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "1999-01-01"}}, "{}", "application/json")->status == 400);
  CHECK(client.Delete("/mcp", {{"Mcp-Session-Id", session}})->status == 200);
  CHECK(post({{"jsonrpc", "2.0"}, {"id", 5}, {"method", "ping"}}, session)->status == 404);  // ended
  transport.stop();
  http.stop();
  serving.join();
}

TEST_CASE("MCP's import tool records a LeanOS folder and tells its progress, unit by unit") {
  Session s(false, true);
  const json tools = s.call("tools/list")["result"]["tools"];
  CHECK(std::any_of(tools.begin(), tools.end(), [](const json& t) { return t["name"] == "import"; }));
  auto answer = s.call("tools/call", {{"name", "import"}, {"arguments", {{"dir", LEANOS_SEED_FIXTURE}}}, {"_meta", {{"progressToken", "imp-1"}}}});
  REQUIRE_MESSAGE(answer.contains("result"), answer.dump());
  const auto& result = answer["result"];
  REQUIRE_MESSAGE(result.count("isError") == 0, result.dump());
  CHECK(result["structuredContent"]["events_recorded"].get<int>() > 10);
  CHECK(result["structuredContent"]["exit_code"].is_number_integer());
  std::vector<json> progress;
  {
    std::lock_guard lock(s.mu);
    for (const auto& m : s.sent)
      if (m["method"] == "notifications/progress") progress.push_back(m["params"]);
  }
  REQUIRE(progress.size() >= 2);
  for (std::size_t i = 0; i < progress.size(); ++i) {
    CHECK(progress[i]["progressToken"] == "imp-1");
    CHECK(progress[i]["progress"] == i);  // increasing, as the protocol wants
    CHECK(progress[i]["total"] == progress.size());
  }
  // Again: nothing new. A folder that is not there: a tool error naming it.
  auto again = s.tool("import", {{"dir", LEANOS_SEED_FIXTURE}});
  CHECK(again["structuredContent"]["events_recorded"] == 0);
  auto missing = s.tool("import", {{"dir", "/no/such/folder"}});
  CHECK(missing["isError"] == true);
  CHECK(missing["content"][0]["text"].get<std::string>().find("/no/such/folder") != std::string::npos);
}

namespace {

long rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

TEST_CASE("MCP over stdio: a client that stops reading blocks the answers, the server's memory stays bounded, nothing is lost") {
  test::TempDir dir;
  int in[2], out[2];
  REQUIRE(pipe(in) == 0);
  REQUIRE(pipe(out) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    const std::string data = dir.sub("data");
    execl(LEANOS_BINARY_PATH, LEANOS_BINARY_PATH, "--data", data.c_str(), "mcp", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::FILE* answers = fdopen(out[0], "r");
  auto say = [&](const std::string& line) { return write(in[1], line.data(), line.size()) == static_cast<ssize_t>(line.size()); };
  REQUIRE(say(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})" "\n"));
  char* line = nullptr;
  std::size_t cap = 0;
  REQUIRE(getline(&line, &cap, answers) > 0);  // the server is up
  const long before = rss_kb(pid);
  // Requests whose answers (the tool list, ~200 KB each) fill the pipe at once; ours to it fill
  // next, and a write that would block ends the flood.
  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
  int sent = 0;
  for (; sent < 5000; ++sent)
    if (!say(R"({"jsonrpc":"2.0","id":)" + std::to_string(sent + 1) + R"(,"method":"tools/list"})" "\n")) break;
  CHECK(sent < 5000);  // the server stopped reading: it is blocked on its answers, not buffering them
  const long during = rss_kb(pid);
  INFO("RSS before " << before << " kB, while blocked " << during << " kB, " << sent << " requests sent");
  CHECK(during - before < 64 * 1024);
  // Reading again: every request written is answered, in order.
  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) & ~O_NONBLOCK);
  close(in[1]);
  int answered = 0;
  while (getline(&line, &cap, answers) > 0) {
    auto a = json::parse(line);
    if (a["id"].is_null()) {  // the request the flood cut off mid-line: not JSON, said so
      CHECK(a["error"]["code"] == -32700);
      continue;
    }
    CHECK(a["id"] == answered + 1);
    ++answered;
  }
  std::free(line);
  std::fclose(answers);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(answered == sent);
}
