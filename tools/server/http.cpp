#include "tools/server/http.h"

#include "tools/mcp/http.h"
#include "tools/server/http_guard.h"

#include <netdb.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "actors/queries.h"
#include "events/domain.h"
#include "events/text.h"
#include "actors/ledger.h"
#include "store/event_store.h"
#include "store/live_feed.h"
#include "tools/cli/cli.h"
#include "tools/cli/view_text.h"
#include "tools/server/secret.h"
#include "tools/server/web_assets.h"

namespace leanos::cli {

namespace {

constexpr std::size_t kStreamPage = 256;                       // events per SSE write
constexpr std::size_t kStreamPageBytes = 4 << 20;              // and at most this much read at once
constexpr auto kKeepAlive = std::chrono::seconds(15);          // a comment line when idle: proxies keep the stream
constexpr auto kPeerCheck = std::chrono::seconds(1);           // how often an idle stream looks for a client gone
// cpp-httplib serves a connection per pool thread, and an open event stream holds its thread:
// the streams get at most half of them, one workspace at most a quarter, and a client (an
// address) a few, so that no tenant or client can take the dashboard from the others.
constexpr int kThreads = 64;
constexpr int kMaxStreams = kThreads / 2;
constexpr int kMaxStreamsPerWorkspace = kThreads / 4;
constexpr int kMaxStreamsPerClient = 12;
constexpr const char* kChartJs = "/usr/share/javascript/chart.js/chart.min.js";  // Debian's libjs-chart.js

int http_status(Code code) {
  switch (code) {
    case Code::invalid_argument: return 400;
    case Code::unauthenticated: return 401;
    case Code::not_found: return 404;
    case Code::conflict:
    case Code::failed_precondition:
    case Code::already_exists: return 409;
    case Code::unavailable:
    case Code::read_only:
    case Code::network: return 503;
    default: return 500;
  }
}

// "not found" -> "NOT_FOUND": stable for scripts, like gRPC's code names.
std::string code_id(Code code) {
  std::string id = code_name(code);
  for (char& c : id) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return id;
}

// `http` / `code`: another status and code name than the Status's own (403 PERMISSION_DENIED,
// which the ledger's codes do not have).
void send_error(httplib::Response& res, const Status& s, int http = 0, const char* code = nullptr) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : s.params()) params[k] = v;
  nlohmann::json body = {
      {"error", {{"code", code ? code : code_id(s.code())}, {"message", s.message()}, {"rule_id", s.rule_id()}, {"params", params}}}};
  res.status = http ? http : http_status(s.code());
  // A message may quote what the client sent: bytes that are not UTF-8 are replaced, not thrown on.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

Result<std::uint64_t> whole(const std::string& name, const std::string& text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return Status::invalid(name + " '" + text + "' is not a whole number (a log position, e.g. " + name + "=120)");
  return v;
}

// The query a GET names: the view from the path, its id, the view's own filters and the time
// travel parameters. A parameter the view does not take is refused, not ignored.
Result<v1::QueryRequest> query_of(const std::string& view, const std::string& id, const httplib::Request& req) {
  v1::QueryRequest q;
  std::set<std::string> takes = {"as_of", "known_at", "at_position"};
  auto param = [&](const char* name) { return req.get_param_value(name); };
  auto needs_id = [&](const char* what) -> Status {
    if (id.empty()) return Status::invalid("GET /api/v1/" + view + "/ID: give the " + what + "'s id");
    return Status::success();
  };
  auto no_id = [&]() -> Status {
    if (!id.empty()) return Status::not_found("no such resource: /api/v1/" + view + "/" + id + " (" + view + " takes no id)");
    return Status::success();
  };
  Status st;
  if (view == "canvas") st = no_id(), q.mutable_canvas();
  else if (view == "goals" && id.empty()) q.mutable_today();  // every goal: the today view's goals
  else if (view == "goals") q.mutable_goal()->set_goal_id(id);
  else if (view == "metrics") {
    st = no_id();
    takes.insert({"segment", "goal", "campaign"});
    auto* m = q.mutable_metrics();
    m->set_segment(param("segment")), m->set_goal(param("goal")), m->set_campaign(param("campaign"));
  } else if (view == "pipeline") {
    st = no_id();
    takes.insert("segment");
    q.mutable_pipeline()->set_segment(param("segment"));
  } else if (view == "today") st = no_id(), q.mutable_today();
  else if (view == "deals" && id.empty()) {
    takes.insert({"stage", "segment", "goal", "status"});
    auto* d = q.mutable_deals();
    d->set_stage(param("stage")), d->set_segment(param("segment")), d->set_goal(param("goal"));
    if (const std::string status = param("status"); !status.empty()) {
      v1::DealStatus parsed;
      std::string name = "DEAL_";
      for (char c : status) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!v1::DealStatus_Parse(name, &parsed) || parsed == v1::DEAL_STATUS_UNSPECIFIED)
        return Status::invalid("status '" + status + "' is not one of open, won, lost, stalled");
      d->set_status(parsed);
    }
  } else if (view == "deals") q.mutable_deal()->set_deal_id(id);
  else if (view == "audit") st = needs_id("deal"), q.mutable_audit()->set_deal_id(id);
  else if (view == "why") st = needs_id("assumption"), q.mutable_why_canvas()->set_assumption_id(id);
  else if (view == "campaigns") st = needs_id("campaign"), q.mutable_campaign()->set_campaign_id(id);
  else if (view == "segments") st = no_id(), q.mutable_segments();
  else if (view == "documents") {
    st = no_id();
    takes.insert("content");
    const std::string content = param("content");
    if (!content.empty() && content != "true" && content != "false") return Status::invalid("content is true or false");
    q.mutable_documents()->set_content(content == "true");
  } else if (view == "files") {  // a path as a parameter: it has '/' in it
    st = no_id();
    takes.insert({"commit", "path"});
    q.mutable_files()->set_commit(param("commit"));
    q.mutable_files()->set_path(param("path"));
  } else if (view == "opportunities") st = no_id(), q.mutable_opportunities();
  else if (view == "scenarios") q.mutable_scenarios()->set_name(id);  // /scenarios/NAME: its versions
  else
    return Status::not_found("no view '" + view +
                             "': GET /api/v1/ canvas, goals, goals/ID, metrics, pipeline, today, deals, deals/ID, audit/ID, why/A, "
                             "campaigns/ID, segments, documents, files, opportunities, scenarios, scenarios/NAME, events");
  if (!st) return st;
  for (const auto& [name, value] : req.params)
    if (!takes.count(name)) {
      std::string known;
      for (const auto& t : takes) known += (known.empty() ? "" : ", ") + t;
      return Status::invalid("parameter '" + name + "' is not one /api/v1/" + view + " takes (" + known + ")");
    }
  q.set_as_of(param("as_of"));
  q.set_known_at(param("known_at"));
  if (req.has_param("at_position")) {
    auto p = whole("at_position", param("at_position"));
    if (!p) return p.status();
    q.set_at_position(*p);
  }
  return q;
}

// One Server-Sent-Events stream: the live feed from `next` on, the store where the feed's
// window no longer reaches.
class EventStream final : public store::LiveFeed::Waiter {
 public:
  EventStream(const store::EventStore& store, store::LiveFeed& feed, std::uint64_t next, std::set<std::string> types)
      : store_(store), feed_(feed), next_(next), types_(std::move(types)) {}
  ~EventStream() { feed_.forget(this); }

  void wake() override {
    std::lock_guard lock(mu_);
    woken_ = true;
    cv_.notify_one();
  }

  // Called again and again by the server while it returns true.
  bool pump(httplib::DataSink& sink) {
    if (!started_) {
      started_ = true;
      const std::string hello = ": leanos events from position " + std::to_string(next_) + "\n\n";
      if (!sink.write(hello.data(), hello.size())) return false;
    }
    held_.clear();
    switch (feed_.take(next_, kStreamPage, held_, this)) {
      case store::LiveFeed::Took::events: {
        std::string out;
        for (const auto& e : held_) append(out, *e);
        return sink.write(out.data(), out.size());
      }
      case store::LiveFeed::Took::behind: {
        auto events = store_.read_all(next_, kStreamPage, kStreamPageBytes);
        if (!events) return false;
        std::string out;
        for (const auto& e : *events) append(out, e);
        return out.empty() || sink.write(out.data(), out.size());
      }
      case store::LiveFeed::Took::nothing: {
        // Idle: every second an empty comment line finds a client that has gone (the write
        // fails), so that its thread and its place are given back within seconds.
        std::unique_lock lock(mu_);
        const bool woken = cv_.wait_for(lock, kPeerCheck, [&] { return woken_; });
        woken_ = false;
        lock.unlock();
        if (woken) return true;
        const auto now = std::chrono::steady_clock::now();
        const bool keep_alive = now - last_keep_alive_ >= kKeepAlive;
        if (keep_alive) last_keep_alive_ = now;
        static const std::string ping = ": keep-alive\n\n", probe = ":\n";
        const std::string& line = keep_alive ? ping : probe;
        return sink.write(line.data(), line.size());
      }
      case store::LiveFeed::Took::stopped: sink.done(); return false;
    }
    return false;
  }

 private:
  void append(std::string& out, const Envelope& e) {
    next_ = e.position() + 1;
    if (!types_.empty() && !types_.count(e.type())) return;
    out += "id: " + std::to_string(e.position()) + "\ndata: " + to_json(e) + "\n\n";
  }

  const store::EventStore& store_;
  store::LiveFeed& feed_;
  std::uint64_t next_;
  std::set<std::string> types_;
  std::vector<store::LiveFeed::Event> held_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_keep_alive_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace

struct HttpApi::Impl {
  Impl(HttpWorkspaces w, bool m) : workspaces(std::move(w)), many(m) {}
  HttpWorkspaces workspaces;
  const bool many;
  std::string chart_js;
  GuardedServer server;
  Occupancy streams_by_client, streams_by_workspace;
  std::thread thread;
  int port = 0;
  std::unique_ptr<mcp::HttpTransport> mcp;  // /mcp: the MCP server's Streamable HTTP transport

  // Serving many workspaces, every route sits under /w/NAME: its pattern, and the number of
  // groups it adds to a match.
  std::string prefix() const { return many ? "/w/([^/]*)" : ""; }
  int shift() const { return many ? 1 : 0; }
  std::string name_of(const httplib::Request& req) const { return many ? req.matches[1].str() : ""; }

  // The workspace a request names, or the error sent.
  std::optional<HttpWorkspace> workspace(const httplib::Request& req, httplib::Response& res) {
    auto w = workspaces(name_of(req));
    if (!w) {
      send_error(res, w.status());
      return std::nullopt;
    }
    return std::move(*w);
  }

  void routes() {
    server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    server.set_tcp_nodelay(true);  // an event is a small write: send it now, not after the next ACK
    server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                {"Content-Security-Policy",
                                 "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"},
                                {"Referrer-Policy", "no-referrer"}});
    // The API wants the workspace's token; the page and its assets hold no data and need none.
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) { return admit(req, res); });
    for (const auto& asset : web_assets()) {
      std::string path;
      for (const char* c = asset.path; *c; ++c) path += *c == '.' ? std::string("\\.") : std::string(1, *c);
      server.Get(prefix() + path, [this, &asset](const httplib::Request& req, httplib::Response& res) {
        if (!workspace(req, res)) return;  // no page for a workspace that is not there
        res.set_header("Cache-Control", "no-cache");
        res.set_content(asset.body.data(), asset.body.size(), asset.type);
      });
    }
    if (many)  // the page's relative links want the slash
      server.Get("/w/([^/]*)", [](const httplib::Request& req, httplib::Response& res) {
        res.set_redirect("/w/" + req.matches[1].str() + "/");
      });
    server.Get(prefix() + "/chart\\.js", [this](const httplib::Request&, httplib::Response& res) {
      if (chart_js.empty()) return send_error(res, Status::not_found(std::string(kChartJs) + " is missing: install Debian's libjs-chart.js"));
      res.set_header("Cache-Control", "max-age=86400");
      res.set_content(chart_js, "text/javascript");
    });
    server.Get(prefix() + "/api/v1/events", [this](const httplib::Request& req, httplib::Response& res) { events(req, res); });
    mcp::Options options;
    mcp = std::make_unique<mcp::HttpTransport>(options, [this](const httplib::Request& req) -> Result<mcp::HttpWorkspace> {
      auto w = workspaces(name_of(req));
      if (!w) return w.status();
      return mcp::HttpWorkspace{w->ledger, name_of(req), std::move(w->lease)};
    });
    mcp->add_routes(server, prefix() + "/mcp");
    // What if: a WhatIfRequest as protobuf JSON; nothing is recorded.
    server.Post(prefix() + "/api/v1/whatif", [this](const httplib::Request& req, httplib::Response& res) {
      v1::WhatIfRequest request;
      if (auto s = from_json(req.body, &request, "the what-if request (a WhatIfRequest: query, without, with)"); !s) return send_error(res, s);
      auto w = workspace(req, res);
      if (!w) return;
      auto reply = w->ledger->what_if(request);
      if (!reply) return send_error(res, reply.status());
      res.set_content(whatif_tree(*reply).dump() + "\n", "application/json");
    });
    server.Get(prefix() + R"(/api/v1/([a-z]+)(?:/([^/]+))?/?)", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string view = req.matches[1 + shift()].str();
      auto q = query_of(view, req.matches.size() > std::size_t(2 + shift()) ? req.matches[2 + shift()].str() : "", req);
      if (!q) return send_error(res, q.status());
      auto w = workspace(req, res);
      if (!w) return;
      auto reply = w->ledger->query(*q);
      if (!reply) return send_error(res, reply.status());
      // The goals: the today view's, on their own.
      if (q->has_today() && view == "goals") {
        res.set_content(nlohmann::json{{"goals", view_tree(*reply)["goals"]}}.dump() + "\n", "application/json");
        return;
      }
      res.set_content(view_json(*reply), "application/json");
    });
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (res.status != 404 || !res.body.empty()) return;
      if (many && req.path.rfind("/w/", 0) != 0)
        return send_error(res, Status::not_found("this server hosts many workspaces: open /w/NAME/ (the page) or /w/NAME/api/v1/..."));
      send_error(res, Status::not_found("no such resource: " + req.path));
    });
    server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr failure) {
      std::string what = "unknown exception";
      try {
        if (failure) std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      spdlog::error("http: {} {} failed: {}", req.method, req.path, what);
      send_error(res, Status(Code::io_error, "the server failed on this request; see its log"));
    });
  }

  // Before routing: a call of the API carries its workspace's token. Serving many, a token of
  // another workspace is 403, none 401; a path naming no workspace that could exist, 400 or 404.
  httplib::Server::HandlerResponse admit(const httplib::Request& req, httplib::Response& res) {
    // A request refused here is answered before its body is read: the connection must not
    // carry another request after it, or that one is read from the unread body (a 400).
    const auto handled = admit_unclosed(req, res);
    if (handled == httplib::Server::HandlerResponse::Handled) res.set_header("Connection", "close");
    return handled;
  }

  httplib::Server::HandlerResponse admit_unclosed(const httplib::Request& req, httplib::Response& res) {
    // What a request names must be text, and each parameter said once: a path or a query with
    // a byte that is not UTF-8 (/api/v1/deals/%ff) is 400 naming the byte, never a failure.
    if (auto st = check_utf8("the request's path", req.path); !st) {
      send_error(res, st);
      return httplib::Server::HandlerResponse::Handled;
    }
    for (auto it = req.params.begin(); it != req.params.end(); it = req.params.upper_bound(it->first)) {
      Status st = check_utf8("query parameter name", it->first);
      if (st) st = check_utf8("the value of query parameter " + it->first, it->second);
      if (st && req.params.count(it->first) > 1 && it->first != "type")  // type=A&type=B is a list; the rest take one value
        st = Status::invalid("query parameter " + it->first + " is given " + std::to_string(req.params.count(it->first)) +
                             " times; give it once");
      if (!st) {
        send_error(res, st);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    std::string rest = req.path;
    std::string name;
    if (many) {
      if (rest.rfind("/w/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;  // the error handler says where to go
      const auto slash = rest.find('/', 3);
      name = rest.substr(3, slash == std::string::npos ? std::string::npos : slash - 3);
      rest = slash == std::string::npos ? "" : rest.substr(slash);
    }
    if (rest.rfind("/api/", 0) != 0 && rest != "/mcp") return httplib::Server::HandlerResponse::Unhandled;
    auto w = workspaces(name);
    if (!w) {
      send_error(res, w.status());
      return httplib::Server::HandlerResponse::Handled;
    }
    if (w->token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string given = req.get_header_value("Authorization");
    if (given.empty() || !same_secret(given, "Bearer " + w->token)) {
      if (many && !given.empty()) {
        send_error(res, Status::unauthenticated("this token does not open workspace '" + name + "'"), 403, "PERMISSION_DENIED");
        return httplib::Server::HandlerResponse::Handled;
      }
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, Status::unauthenticated(given.empty() ? "missing 'Authorization: Bearer <token>' header" : "wrong token"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void events(const httplib::Request& req, httplib::Response& res) {
    auto w = workspace(req, res);
    if (!w) return;
    std::uint64_t next = w->store->last_position() + 1;  // live only, unless told where to start
    if (req.has_header("Last-Event-ID")) {
      auto last = whole("Last-Event-ID", req.get_header_value("Last-Event-ID"));
      if (!last) return send_error(res, last.status());
      next = *last + 1;
    } else if (req.has_param("from")) {
      auto from = whole("from", req.get_param_value("from"));
      if (!from) return send_error(res, from.status());
      next = std::max<std::uint64_t>(1, *from);
    }
    std::set<std::string> types;
    for (std::size_t i = 0; i < req.get_param_value_count("type"); ++i) {
      const std::string t = req.get_param_value("type", i);
      if (auto s = check_event_type_filter(t); !s) return send_error(res, s);
      types.insert(t);
    }
    for (const auto& [name, value] : req.params)
      if (name != "from" && name != "type") return send_error(res, Status::invalid("parameter '" + name + "' is not one /api/v1/events takes (from, type)"));
    // An open stream holds a server thread: within its client's, its workspace's and the
    // server's share, or refused at once (429 for the client, 503 for the rest) with when to
    // try again, which the page does by itself.
    if (!streams_by_client.take(req.remote_addr, kMaxStreamsPerClient)) {
      res.set_header("Retry-After", "5");
      return send_error(res, Status::unavailable("this client has " + std::to_string(kMaxStreamsPerClient) +
                                                 " event streams open, the most one client may; close one or retry later"),
                        429, "RESOURCE_EXHAUSTED");
    }
    std::shared_ptr<Held> client(new Held{&streams_by_client, req.remote_addr});
    const std::string name = name_of(req);
    if (!streams_by_workspace.take(name, kMaxStreamsPerWorkspace, kMaxStreams)) {
      res.set_header("Retry-After", "5");
      return send_error(res, Status::unavailable(std::string("the server has as many event streams open as it serves") +
                                                 (many ? " for workspace '" + name + "'" : "") + "; retry later"),
                        503, "UNAVAILABLE");
    }
    std::shared_ptr<Held> workspace_place(new Held{&streams_by_workspace, name});
    // The stream keeps its workspace open (the lease) for as long as it runs.
    auto stream = std::make_shared<EventStream>(*w->store, *w->feed, next, std::move(types));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [stream, lease = std::move(w->lease), client, workspace_place](std::size_t, httplib::DataSink& sink) { return stream->pump(sink); });
  }
};

HttpApi::HttpApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpApi::~HttpApi() {
  if (impl_->mcp) impl_->mcp->stop();  // its event streams end, and its sessions' subscriptions
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpApi::port() const { return impl_->port; }

Result<std::unique_ptr<HttpApi>> HttpApi::start(HttpWorkspaces workspaces, bool many, const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Status::invalid("--http '" + listen + "' is not ADDRESS:PORT (e.g. 127.0.0.1:7701; port 0 picks a free one)");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = whole("--http port", listen.substr(colon + 1));
  if (!port || *port > 65535) return Status::invalid("--http '" + listen + "': the port is a number from 0 to 65535");
  auto impl = std::make_unique<Impl>(std::move(workspaces), many);
  if (std::ifstream in(kChartJs, std::ios::binary); in) {
    std::ostringstream s;
    s << in.rdbuf();
    impl->chart_js = s.str();
  } else {
    spdlog::warn("http: {} is missing (Debian's libjs-chart.js): the page shows its figures without charts", kChartJs);
  }
  impl->routes();
  if (*port == 0) impl->port = impl->server.bind_to_any_port(host);
  else if (impl->server.bind_to_port(host, static_cast<int>(*port))) impl->port = static_cast<int>(*port);
  if (impl->port <= 0)
    return Status::unavailable("cannot listen for HTTP on " + listen + ": the port is in use or the address is not this machine's; pick another with --http");
  auto* server = &impl->server;
  impl->thread = std::thread([server] { server->listen_after_bind(); });
  return std::unique_ptr<HttpApi>(new HttpApi(std::move(impl)));
}

}  // namespace leanos::cli
