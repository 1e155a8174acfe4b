// MCP's Streamable HTTP transport, on the dashboard's port (`leanos serve --http`): one
// endpoint, PREFIX/mcp (with --workspaces, /w/NAME/mcp), behind the workspace's bearer token
// (checked before routing, as for /api).
//
//   POST    one JSON-RPC message. `initialize` opens a session: its id comes back in
//           Mcp-Session-Id and every later message carries it (none: 400; unknown or ended:
//           404). A request is answered with application/json; a notification or a response
//           with 202 and no body.
//   GET     Accept: text/event-stream: the session's messages that answer nothing (a
//           resource's update) as Server-Sent Events, one stream per session at a time.
//   DELETE  ends the session.
//
// An Origin header is accepted from a loopback page (localhost, 127.0.0.1, [::1]) or from
// the same origin when the request's Host is an IP address (a DNS name could be rebound to
// this machine); any other Origin is 403. A session unused for an hour is ended; at most 256
// are open, past that `initialize` is 503.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actors/ledger.h"
#include "tools/mcp/server.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace leanos::mcp {

// The workspace a request names: its ledger, its name (a session stays in it) and the lease
// that keeps it open while the session lives.
struct HttpWorkspace {
  Ledger* ledger = nullptr;
  std::string name;
  std::shared_ptr<void> lease;
};
// The workspace of a request, or why there is none (not found, not a name).
using FindWorkspace = std::function<Result<HttpWorkspace>(const httplib::Request&)>;

class HttpTransport {
 public:
  HttpTransport(Options options, FindWorkspace find);
  ~HttpTransport();
  // Routes POST, GET and DELETE of `pattern` (a path regex, e.g. "/w/([^/]*)/mcp").
  void add_routes(httplib::Server& server, const std::string& pattern);
  // Ends every session and event stream (before the HTTP server stops).
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace leanos::mcp
