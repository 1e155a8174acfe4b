// `leanos serve --http ADDR:PORT`: the dashboard page and a JSON API over HTTP, beside gRPC,
// in the same process and on the same store.
//
//   GET /                          the page (tools/server/web/, built into the binary)
//   GET /chart.js                  Chart.js from Debian's libjs-chart.js (no CDN: works offline)
//   GET /api/v1/{canvas, goals, goals/ID, metrics, pipeline, today, deals, deals/ID,
//                audit/ID, why/A, campaigns/ID, segments, documents, opportunities}
//       with as_of | known_at | at_position (and the views' own filters: segment, goal,
//       campaign, stage, status): the Query RPC's typed views in protobuf's JSON mapping, as
//       `leanos --json` prints them.
//   POST|GET|DELETE /mcp           the MCP server's Streamable HTTP transport (tools/mcp/http.h),
//       behind the same token
//   GET /api/v1/events             Server-Sent Events from the live feed: each event as
//       `id: POSITION` + `data: ENVELOPE-JSON`; catch-up from `Last-Event-ID` (or ?from=N,
//       the first position wanted), then live; ?type=T (repeatable) filters by type.
//
// With many workspaces (`serve --workspaces DIR`) every path above sits under /w/NAME (the page
// of workspace acme: /w/acme/, its API: /w/acme/api/v1/...), and a token opens its own
// workspace only: another workspace's is 403; a name that is not one is 400, an unknown one 404.
//
// Errors are JSON: {"error": {"code", "message", "rule_id", "params"}} with 400 (bad input),
// 401 (token), 404 (unknown id), 409 (a rule or a conflict), 503 (unavailable). With a token,
// every /api call needs `Authorization: Bearer TOKEN` (the page asks for it once per tab);
// the page and its assets need none: they hold no data. No CORS headers: other origins'
// scripts cannot read the API.
//
// cpp-httplib (Debian's libcpp-httplib-dev): maintained, small, blocking with a thread pool,
// which suits a dashboard's handful of clients; an SSE stream holds one pool thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "events/result.h"

namespace leanos {
class Ledger;
}
namespace leanos::store {
class EventStore;
class LiveFeed;
}  // namespace leanos::store

namespace leanos::cli {

// A workspace the API serves: its store (the event streams read it), its ledger (the views),
// its live feed and its token (none: ""); `lease` keeps it open while a request or an event
// stream uses it.
struct HttpWorkspace {
  store::EventStore* store = nullptr;
  Ledger* ledger = nullptr;
  store::LiveFeed* feed = nullptr;
  std::string token;
  std::shared_ptr<void> lease;
};
// Finds workspace NAME (or, serving one workspace, the one: NAME is ""), opening it if need be.
using HttpWorkspaces = std::function<Result<HttpWorkspace>(const std::string& name)>;

class HttpApi {
 public:
  // Listens on `listen` (ADDRESS:PORT, port 0: a free one) and serves on its own threads;
  // `many`: paths name their workspace (/w/NAME/...).
  static Result<std::unique_ptr<HttpApi>> start(HttpWorkspaces workspaces, bool many, const std::string& listen);
  ~HttpApi();  // stops: the feed must be stopped first, to end the event streams
  int port() const;

  struct Impl;

 private:
  explicit HttpApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace leanos::cli
