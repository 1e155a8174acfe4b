// leanos bench mcp: tools/call round trips over stdio, as an agent's client sees them. A
// generated history of N events (as bench replay makes it, folded once with snapshots), a
// `leanos mcp` child on it, one client on its stdin and stdout: a view as of a random date in
// the history (the canvas, then a deal's thread), and a command (a new deal's lead), each
// timed from the request written to the answer read.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <random>

#include "actors/ledger_reader.h"
#include "events/time.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

namespace leanos::cli {

namespace {

namespace fs = std::filesystem;
using bench::Child;
using bench::Clock;
using bench::percentile;

struct McpRow {
  std::uint64_t events = 0;
  double view_p50 = 0, view_p99 = 0, deal_p50 = 0, deal_p99 = 0, command_p50 = 0, command_p99 = 0;
};

Result<McpRow> measure(const std::string& dir, std::uint64_t events, int calls) {
  auto child = Child::start({bench::self_path(), "--data", dir, "mcp"});
  if (!child) return child.status();
  auto& c = **child;
  int id = 0;
  auto call = [&](const std::string& method, nlohmann::json params) -> Result<nlohmann::json> {
    c.say(nlohmann::json{{"jsonrpc", "2.0"}, {"id", ++id}, {"method", method}, {"params", std::move(params)}}.dump());
    const std::string line = c.line();
    auto answer = nlohmann::json::parse(line, nullptr, false);
    if (answer.is_discarded() || !answer.contains("result")) return Status::io("bench: leanos mcp answered: " + line.substr(0, 300));
    if (answer["result"].value("isError", false)) return Status::io("bench: a tool refused: " + line.substr(0, 300));
    return answer["result"];
  };
  if (auto r = call("initialize", {{"protocolVersion", "2025-11-25"}, {"clientInfo", {{"name", "bench"}, {"version", "1"}}}}); !r)
    return r.status();
  c.say(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  // The history's deals and its span (the generator's deals are deal-d<k>).
  auto deals = call("tools/call", {{"name", "deals"}, {"arguments", nlohmann::json::object()}});
  if (!deals) return deals.status();
  std::vector<std::pair<std::string, Micros>> ids;  // each deal and when its lead came
  for (const auto& d : (*deals)["structuredContent"]["deals"])
    if (auto lead = parse_time(d.value("lead_at", ""))) ids.emplace_back(d["deal_id"], *lead);
  auto today = call("tools/call", {{"name", "today"}, {"arguments", nlohmann::json::object()}});
  if (!today) return today.status();
  const auto first = parse_time((*today)["structuredContent"].value("first_event_at", "2026-01-01T00:00:00Z"));
  const auto last = parse_time((*today)["structuredContent"].value("last_event_at", "2026-01-01T00:00:00Z"));
  if (!first || !last) return Status::io("bench: the today view names no span of business time");
  std::mt19937_64 rng(42);
  auto some_date = [&](Micros from) {
    return format_time(from + static_cast<Micros>(rng() % static_cast<std::uint64_t>(std::max<Micros>(1, *last - from))));
  };
  auto timed = [&](const std::string& tool, auto arguments, std::vector<double>& ms) -> Status {
    for (int i = 0; i < calls; ++i) {
      const auto t0 = Clock::now();
      if (auto r = call("tools/call", {{"name", tool}, {"arguments", arguments(i)}}); !r) return r.status();
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return Status::success();
  };
  std::vector<double> view, deal, command;
  if (auto s = timed("canvas", [&](int) { return nlohmann::json{{"as_of", some_date(*first)}}; }, view); !s) return s;
  if (!ids.empty())
    if (auto s = timed("deal",
                       [&](int) {
                         const auto& [id, lead] = ids[rng() % ids.size()];
                         return nlohmann::json{{"deal_id", id}, {"as_of", some_date(lead)}};
                       },
                       deal);
        !s)
      return s;
  const std::string run = std::to_string(::getpid());
  auto lead = [&](int i) {
    return nlohmann::json{{"deal_id", "bench-" + run + "-" + std::to_string(i)},
                          {"company", "Bench Co"},
                          {"segment", "smb"},
                          {"source", "OUTBOUND"},
                          {"contact", {{"name", "Pat"}, {"email", "pat" + std::to_string(i) + "@bench.example"}}},
                          {"signal", "reply"}};
  };
  if (auto s = timed("deal_open", lead, command); !s) return s;
  c.stop(SIGTERM);
  return McpRow{events, percentile(view, 0.5), percentile(view, 0.99), percentile(deal, 0.5), percentile(deal, 0.99),
                percentile(command, 0.5), percentile(command, 0.99)};
}

int run_bench_mcp(const GlobalOptions& g, std::string dir, const std::vector<std::uint64_t>& sizes, int calls) {
  std::vector<McpRow> rows;
  auto s = on_histories(dir, "mcp", sizes, [&](const std::string& data, std::uint64_t events) -> Status {
    auto row = measure(data, events, calls);
    if (!row) return row.status();
    rows.push_back(*row);
    return Status::success();
  });
  if (!s) return fail(s);
  if (g.json) {
    auto a = nlohmann::json::array();
    for (const auto& r : rows)
      a.push_back({{"events", r.events}, {"view_p50_ms", r.view_p50}, {"view_p99_ms", r.view_p99}, {"deal_p50_ms", r.deal_p50},
                   {"deal_p99_ms", r.deal_p99}, {"command_p50_ms", r.command_p50}, {"command_p99_ms", r.command_p99}});
    std::printf("%s\n", nlohmann::json{{"calls", calls}, {"rows", a}}.dump().c_str());
    return 0;
  }
  std::printf("tools/call over stdio, %d calls each (ms): canvas as of a random date | a deal as of a random date | deal_open (durable)\n", calls);
  std::printf("%10s %9s %9s %9s %9s %9s %9s\n", "events", "view p50", "view p99", "deal p50", "deal p99", "cmd p50", "cmd p99");
  for (const auto& r : rows)
    std::printf("%10llu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", static_cast<unsigned long long>(r.events), r.view_p50, r.view_p99, r.deal_p50,
                r.deal_p99, r.command_p50, r.command_p99);
  std::printf("goal: a view as of a date p99 <= 5 ms over stdio at 1 M events\n");
  return 0;
}

}  // namespace

void add_bench_mcp(CLI::App* bench, GlobalOptions& g, Action& action) {
  struct Args {
    std::vector<std::uint64_t> sizes{10000, 1000000};
    int calls = 200;
    std::string dir;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("mcp", "tools/call round trips of `leanos mcp` over stdio: a view as of a date, a command");
  s->add_option("--events", a->sizes, "history sizes (default 10000 1000000)");
  s->add_option("--calls", a->calls, "calls of each kind (default 200)")->check(CLI::Range(1, 1000000));
  s->add_option("--dir", a->dir, "where the histories go (default a temporary folder, removed after)");
  s->callback([&g, &action, a] { action = [&g, a] { return run_bench_mcp(g, a->dir, a->sizes, a->calls); }; });
}

}  // namespace leanos::cli
