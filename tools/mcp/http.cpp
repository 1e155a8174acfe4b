#include "tools/mcp/http.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "events/ids.h"
#include "tools/mcp/mcp.h"
#include "tools/mcp/protocol.h"

namespace leanos::mcp {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxSessions = 256;
constexpr auto kIdle = std::chrono::hours(1);
constexpr std::size_t kMaxOutbox = 1024;  // messages waiting for a session's event stream
constexpr auto kKeepAlive = std::chrono::seconds(15);

struct Session {
  std::string id, workspace;
  std::shared_ptr<void> lease;
  std::mutex handling;  // one message at a time: a Server answers in order
  std::unique_ptr<Server> server;
  std::mutex mu;  // guards what follows
  std::condition_variable cv;
  std::deque<std::string> outbox;
  bool ended = false, streaming = false;
  Clock::time_point used = Clock::now();

  // A message outside any answer: queued for the event stream. A full queue drops the
  // oldest (an update says only "read it again": the newest one is what counts).
  void send(const nlohmann::json& message) {
    std::string text = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::lock_guard lock(mu);
    if (ended) return;
    for (const auto& queued : outbox)
      if (queued == text) return;  // told already, not read yet
    if (outbox.size() >= kMaxOutbox) outbox.pop_front();
    outbox.push_back(std::move(text));
    cv.notify_all();
  }
  void end() {
    {
      std::lock_guard lock(mu);
      ended = true;
    }
    cv.notify_all();
  }
  ~Session() {
    end();
    server.reset();  // stops its subscription's thread before the lease (and the ledger) go
  }
};

bool loopback(const std::string& host) { return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1"; }

// "http://h:p" -> "h"; "[::1]:p" -> "[::1]".
std::string host_of(std::string s) {
  if (auto scheme = s.find("://"); scheme != std::string::npos) s = s.substr(scheme + 3);
  if (auto slash = s.find('/'); slash != std::string::npos) s.resize(slash);
  if (!s.empty() && s.front() == '[') return s.substr(0, s.find(']') + 1);
  return s.substr(0, s.find(':'));
}

bool ip_literal(const std::string& host) {
  return !host.empty() && (host.front() == '[' || host.find_first_not_of("0123456789.") == std::string::npos);
}

}  // namespace

struct HttpTransport::Impl {
  Options options;
  FindWorkspace find;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Session>> sessions;
  std::atomic<bool> stopping{false};

  static void reply(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
  }
  static void refuse(httplib::Response& res, int status, int code, const std::string& message) {
    reply(res, status, Server::error(nullptr, code, message));
  }

  // The checks every method makes: the Origin, the workspace. Nothing when refused (answered).
  std::optional<HttpWorkspace> admit(const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Origin")) {
      const std::string origin = req.get_header_value("Origin"), host = req.get_header_value("Host");
      const std::string from = host_of(origin);
      const bool same = origin == "http://" + host || origin == "https://" + host;
      if (!loopback(from) && !(same && ip_literal(host_of(host)))) {
        refuse(res, 403, kInvalidRequest, "Origin " + origin + " may not call this server (a page of this machine may)");
        return std::nullopt;
      }
    }
    if (req.has_header("MCP-Protocol-Version")) {
      const std::string v = req.get_header_value("MCP-Protocol-Version");
      bool known = v == "2025-03-26";  // the SDKs' default before negotiation: the session's version rules
      for (const char* ours : kProtocolVersions) known = known || v == ours;
      if (!known) {
        refuse(res, 400, kInvalidRequest, "MCP-Protocol-Version " + v + " is not one this server speaks (" + kProtocolVersions[0] + ", " +
                                              kProtocolVersions[1] + ")");
        return std::nullopt;
      }
    }
    auto w = find(req);
    if (!w) {
      refuse(res, w.status().code() == Code::not_found ? 404 : 400, kInvalidRequest, w.status().message());
      return std::nullopt;
    }
    return std::move(*w);
  }

  // The session a request names, or nothing (answered: 400 without an id, 404 for one unknown).
  std::shared_ptr<Session> session(const httplib::Request& req, httplib::Response& res, const HttpWorkspace& w) {
    const std::string id = req.get_header_value("Mcp-Session-Id");
    if (id.empty()) {
      refuse(res, 400, kInvalidRequest, "no Mcp-Session-Id header: send \"initialize\" first and give its session id on every message");
      return nullptr;
    }
    std::lock_guard lock(mu);
    auto it = sessions.find(id);
    if (it == sessions.end() || it->second->workspace != w.name) {
      refuse(res, 404, kInvalidRequest, "no session " + id + " (ended, or expired after an hour unused): initialize again");
      return nullptr;
    }
    it->second->used = Clock::now();
    return it->second;
  }

  void post(const httplib::Request& req, httplib::Response& res) {
    auto w = admit(req, res);
    if (!w) return;
    if (req.body.size() > kMaxMessageBytes) return refuse(res, 413, kInvalidRequest, "message larger than 4 MiB");
    auto message = nlohmann::json::parse(req.body, nullptr, false);
    if (message.is_discarded()) return refuse(res, 400, kParseError, "not JSON: the body is one JSON-RPC 2.0 message");
    const bool initialize = message.is_object() && message.contains("id") && message.value("method", nlohmann::json()) == "initialize";
    if (initialize) return open(*w, message, res);
    auto s = session(req, res, *w);
    if (!s) return;
    std::optional<nlohmann::json> answer;
    {
      std::lock_guard lock(s->handling);
      answer = s->server->handle(message);
    }
    if (!answer) {
      res.status = 202;
      return;
    }
    reply(res, 200, *answer);
  }

  void open(const HttpWorkspace& w, const nlohmann::json& message, httplib::Response& res) {
    auto s = std::make_shared<Session>();
    s->id = new_event_id();
    s->workspace = w.name;
    s->lease = w.lease;
    auto* raw = s.get();
    s->server = std::make_unique<Server>(*w.ledger, options, [raw](const nlohmann::json& m) { raw->send(m); });
    auto answer = s->server->handle(message);
    if (!answer || answer->contains("error")) return reply(res, 400, answer.value_or(nlohmann::json::object()));
    std::vector<std::shared_ptr<Session>> expired;  // ended outside the lock: their threads stop
    {
      std::lock_guard lock(mu);
      for (auto it = sessions.begin(); it != sessions.end();)
        if (Clock::now() - it->second->used > kIdle) expired.push_back(it->second), it = sessions.erase(it);
        else ++it;
      if (sessions.size() >= kMaxSessions)
        return refuse(res, 503, kInvalidRequest, "the server has " + std::to_string(kMaxSessions) + " MCP sessions open; end one (DELETE) or retry later");
      sessions.emplace(s->id, s);
    }
    res.set_header("Mcp-Session-Id", s->id);
    reply(res, 200, *answer);
  }

  void get(const httplib::Request& req, httplib::Response& res) {
    auto w = admit(req, res);
    if (!w) return;
    if (req.get_header_value("Accept").find("text/event-stream") == std::string::npos)
      return refuse(res, 405, kInvalidRequest, "GET opens the session's event stream: send Accept: text/event-stream");
    auto s = session(req, res, *w);
    if (!s) return;
    {
      std::lock_guard lock(s->mu);
      if (s->streaming) return refuse(res, 409, kInvalidRequest, "this session has an event stream open already");
      s->streaming = true;
    }
    // Clears `streaming` when the stream ends, however it ends.
    std::shared_ptr<void> done(nullptr, [s](void*) {
      std::lock_guard lock(s->mu);
      s->streaming = false;
    });
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, s, done](std::size_t, httplib::DataSink& sink) {
      std::unique_lock lock(s->mu);
      s->cv.wait_for(lock, kKeepAlive, [&] { return !s->outbox.empty() || s->ended || stopping; });
      if (s->ended || stopping) {
        lock.unlock();
        sink.done();
        return false;
      }
      std::string out;
      for (const auto& m : s->outbox) out += "event: message\ndata: " + m + "\n\n";
      if (out.empty()) out = ": keep-alive\n\n";
      s->outbox.clear();
      lock.unlock();
      return sink.write(out.data(), out.size());
    });
  }

  void end(const httplib::Request& req, httplib::Response& res) {
    auto w = admit(req, res);
    if (!w) return;
    auto s = session(req, res, *w);
    if (!s) return;
    {
      std::lock_guard lock(mu);
      sessions.erase(s->id);
    }
    s->end();
    res.status = 200;
  }
};

HttpTransport::HttpTransport(Options options, FindWorkspace find) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->find = std::move(find);
}

HttpTransport::~HttpTransport() { stop(); }

void HttpTransport::add_routes(httplib::Server& server, const std::string& pattern) {
  auto impl = impl_;
  server.Post(pattern, [impl](const httplib::Request& req, httplib::Response& res) { impl->post(req, res); });
  server.Get(pattern, [impl](const httplib::Request& req, httplib::Response& res) { impl->get(req, res); });
  server.Delete(pattern, [impl](const httplib::Request& req, httplib::Response& res) { impl->end(req, res); });
}

void HttpTransport::stop() {
  impl_->stopping = true;
  std::map<std::string, std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(impl_->mu);
    sessions.swap(impl_->sessions);
  }
  for (auto& [id, s] : sessions) s->end();
}

}  // namespace leanos::mcp
