// The CLI's side of the wire (--server): commands, queries, appends and reads through a
// running `leanos serve`, and `leanos subscribe`. A failed call comes back as the Status the
// CLI would have made locally, a rule's rejection with its id, parameters and hint.
#include "tools/server/client.h"
#include "tools/bridge/upload.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "events/ids.h"
#include "store/nats.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "leanos/v1/api.grpc.pb.h"

namespace leanos::cli {

std::string server_address(const std::string& server) {
  const auto colon = server.rfind(':');
  const bool has_port = colon != std::string::npos && server.find(']', colon) == std::string::npos &&
                        (server.front() == '[' || server.find(':') == colon);
  return has_port ? server : server + ":7700";
}

Result<Remote> remote(const GlobalOptions& g) {
  if (!g.workspace.empty())  // it travels in a header: refused here, by name, rather than by gRPC's assertion
    if (auto s = store::check_workspace_name(g.workspace); !s) return s;
  Remote r{v1::Ledger::NewStub(grpc::CreateChannel(server_address(g.server), grpc::InsecureChannelCredentials())), "", g.workspace};
  if (!g.token_file.empty()) {
    auto t = read_token(g.token_file);
    if (!t) return t.status();
    r.token = *t;
  }
  return r;
}

namespace {

struct SubscribeArgs {
  std::string prefix, stream, name;
  std::vector<std::string> types;
  std::uint64_t from = 1;
  std::uint64_t limit = 0;
  bool from_now = false;
};

int subscribe(const GlobalOptions& g, SubscribeArgs a) {
  if (g.server.empty()) return fail(Status::invalid("--server HOST:PORT is required (a running `leanos serve`)"));
  auto r = remote(g);
  if (!r) return fail(r.status());
  auto& stub = r->stub;
  grpc::ClientContext ctx;  // no deadline: a subscription lasts
  r->authorize(ctx);
  v1::SubscribeRequest req;
  if (a.from_now) req.set_from_now(true);
  else req.set_from_position(a.from);
  req.set_name(a.name);
  req.set_stream_prefix(a.prefix);
  req.set_stream(a.stream);
  for (const auto& t : a.types) {
    req.add_types(t);
    // A near miss of a domain type is refused by the server; any other name is a custom type
    // that may never come: say what the subscription waits for instead of waiting silently.
    const auto& domain = domain_event_types();
    if (std::find(domain.begin(), domain.end(), t) == domain.end())
      std::fprintf(stderr, "leanos: '%s' is not a domain event type: waiting for custom events of that type (`leanos append --type %s`)\n",
                   t.c_str(), t.c_str());
  }
  auto reader = stub->Subscribe(&ctx, req);
  v1::SubscribePage page;
  std::uint64_t n = 0;
  auto ack = [&](std::uint64_t position) {  // a reconnect resumes after what was printed
    grpc::ClientContext ack_ctx;
    r->prepare(ack_ctx);
    v1::AckRequest request;
    request.set_name(a.name);
    request.set_position(position);
    v1::AckResponse none;
    return stub->Ack(&ack_ctx, request, &none);
  };
  while (reader->Read(&page)) {
    std::uint64_t printed = page.checkpoint();
    for (const auto& e : page.events()) {
      std::printf("%s\n", to_json(e).c_str());
      if (a.limit && ++n >= a.limit) {
        printed = e.position();
        break;
      }
    }
    std::fflush(stdout);
    if (!a.name.empty())
      if (auto s = ack(printed); !s.ok()) return fail(from_grpc(s, g));
    if (a.limit && n >= a.limit) {
      ctx.TryCancel();
      break;
    }
  }
  auto status = reader->Finish();
  if (a.limit && n >= a.limit) return 0;
  if (!status.ok()) return fail(from_grpc(status, g, "the subscription ended: "));
  return 0;
}

}  // namespace

Status from_grpc(const grpc::Status& s, const GlobalOptions& g, const std::string& context) {
  Code code = Code::io_error;
  // The server's message already says "<kind>: <why>"; keep only the why.
  std::string message = s.error_message();
  if (auto colon = message.find(": "); colon != std::string::npos && colon < 20) message = message.substr(colon + 2);
  // A rule's rejection comes back as it was made: the rule, its parameters, the hint.
  std::string rule_id, hint;
  Status::Params params;
  if (google::rpc::Status details; !s.error_details().empty() && details.ParseFromString(s.error_details()))
    for (const auto& any : details.details())
      if (google::rpc::ErrorInfo info; any.UnpackTo(&info) && info.domain() == "leanos.v1") {
        rule_id = info.reason();
        for (const auto& [key, value] : info.metadata())
          if (key == "hint") hint = value;
          else params.emplace_back(key, value);
        std::sort(params.begin(), params.end());
      }
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT: code = Code::invalid_argument; break;
    case grpc::StatusCode::NOT_FOUND: code = Code::not_found; break;
    case grpc::StatusCode::FAILED_PRECONDITION: code = Code::failed_precondition; break;
    case grpc::StatusCode::ALREADY_EXISTS: code = Code::already_exists; break;
    case grpc::StatusCode::DATA_LOSS: code = Code::corruption; break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: code = Code::read_only; break;
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::unauthenticated("the server at " + server_address(g.server) + " refused the call: " + message +
                                     (g.token_file.empty() ? "; it wants a token: give it with --token-file FILE"
                                                           : "; check that " + g.token_file + " holds the server's token"));
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::unauthenticated("the server at " + server_address(g.server) + " refused the call: " + message +
                                     "; give the workspace's own token (--token-file) with --workspace");
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::network(context + "cannot reach the server at " + server_address(g.server) + " (" + message +
                             "); is `leanos serve` running there?");
    case grpc::StatusCode::CANCELLED: code = Code::network; break;
    default: break;
  }
  if (!rule_id.empty()) return Status::rule(code, rule_id, context + message, hint, std::move(params));
  return {code, context + message};
}

namespace {

// The ledger of a running server: each call one RPC (a read, page after page).
class RemoteLedger final : public Ledger {
 public:
  RemoteLedger(Remote remote, GlobalOptions g) : r_(std::move(remote)), g_(std::move(g)) {}

  Result<v1::WhatIfReply> what_if(const v1::WhatIfRequest& request) override {
    grpc::ClientContext ctx;
    r_.prepare(ctx);
    v1::WhatIfReply reply;
    if (auto s = r_.stub->WhatIf(&ctx, request, &reply); !s.ok()) return from_grpc(s, g_);
    return reply;
  }

  Result<std::string> read_file(const std::string& sha256) override {
    grpc::ClientContext ctx;
    r_.prepare(ctx);
    v1::ReadFileRequest req;
    req.set_sha256(sha256);
    auto reader = r_.stub->ReadFile(&ctx, req);
    std::string bytes;
    v1::FileBytes part;
    while (reader->Read(&part)) bytes += part.data();
    if (auto s = reader->Finish(); !s.ok()) return from_grpc(s, g_);
    return bytes;
  }

  // The Import RPC: the folder's files sent in parts, imported by the server (no progress
  // told: the server answers with the whole report). No deadline: a large folder takes what
  // it takes.
  Result<v1::ImportReport> import_folder(const ImportFolder& request) override {
    grpc::ClientContext ctx;
    r_.authorize(ctx);
    v1::ImportReport report;
    auto writer = r_.stub->Import(&ctx, &report);
    auto sent = bridge::send_folder(request.dir, request.options, [&](const v1::ImportPart& part) { return writer->Write(part); });
    if (!sent && sent.code() != Code::unavailable) {  // nothing to send (no such folder): the call is given up
      ctx.TryCancel();
      writer->Finish();
      return sent;
    }
    writer->WritesDone();
    if (auto s = writer->Finish(); !s.ok()) return from_grpc(s, g_);  // what the server said, if it broke off
    return report;
  }

  Result<v1::QueryReply> query(const v1::QueryRequest& request) override {
    grpc::ClientContext ctx;
    r_.prepare(ctx);
    v1::QueryReply reply;
    if (auto s = r_.stub->Query(&ctx, request, &reply); !s.ok()) return from_grpc(s, g_);
    return reply;
  }

  // The Command RPC; the recorded events, one append and so consecutive positions, are read back.
  Result<Handled> submit(std::vector<Envelope> commands) override {
    grpc::ClientContext ctx;
    r_.prepare(ctx);
    v1::CommandRequest req;
    if (commands.size() == 1) *req.mutable_command() = std::move(commands.front());
    else *req.mutable_batch() = {std::make_move_iterator(commands.begin()), std::make_move_iterator(commands.end())};
    v1::AppendResponse out;
    if (auto s = r_.stub->Command(&ctx, req, &out); !s.ok()) return from_grpc(s, g_);
    Handled h{out.stream(), {}, out.idempotent_retry()};
    while (static_cast<int>(h.events.size()) < out.positions_size()) {
      grpc::ClientContext rctx;
      r_.prepare(rctx);
      v1::ReadAllRequest r;
      r.set_from_position(out.positions(static_cast<int>(h.events.size())));
      r.set_limit(static_cast<std::uint32_t>(out.positions_size()) - static_cast<std::uint32_t>(h.events.size()));
      v1::ReadResponse events;
      if (auto s = r_.stub->ReadAll(&rctx, r, &events); !s.ok()) return from_grpc(s, g_);
      if (events.events().empty()) break;
      for (auto& e : *events.mutable_events()) h.events.push_back(std::move(e));
    }
    if (h.events.empty()) return Status::io("the server recorded the command but returned no events");
    return h;
  }

  Result<store::AppendResult> append(const std::string& stream, const std::string& expected, std::vector<Envelope> events) override {
    grpc::ClientContext ctx;
    r_.prepare(ctx);
    v1::AppendRequest req;
    req.set_stream(stream);
    req.set_expected_version(expected);
    *req.mutable_events() = {std::make_move_iterator(events.begin()), std::make_move_iterator(events.end())};
    v1::AppendResponse out;
    if (auto s = r_.stub->Append(&ctx, req, &out); !s.ok()) return from_grpc(s, g_);
    store::AppendResult result;
    result.positions.assign(out.positions().begin(), out.positions().end());
    result.stream_version = out.stream_version();
    result.idempotent_retry = out.idempotent_retry();
    return result;
  }

  Result<store::ForgetResult> forget(const std::string& subject, const std::string& reason, const std::string& actor) override {
    grpc::ClientContext ctx;
    r_.prepare(ctx);
    v1::ForgetRequest req;
    req.set_subject(subject);
    req.set_reason(reason);
    req.set_actor(actor);
    v1::ForgetResponse out;
    if (auto s = r_.stub->Forget(&ctx, req, &out); !s.ok()) return from_grpc(s, g_);
    return store::ForgetResult{out.subject_hash(), out.position()};
  }

  // ReadAll or ReadStream, page after page (each reply is bounded).
  Result<std::vector<Envelope>> read(const ReadRequest& q) override {
    if (q.recorded_from || q.recorded_to)
      return Status::invalid("reading by recording time needs the data folder: run it on the server's machine with --data");
    std::vector<Envelope> events;
    std::uint64_t from = q.from;
    while (events.size() < q.limit) {
      grpc::ClientContext ctx;
      r_.prepare(ctx);
      v1::ReadResponse page;
      const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(q.limit - events.size(), 1000));
      grpc::Status s;
      if (q.stream.empty()) {
        v1::ReadAllRequest req;
        req.set_from_position(from);
        req.set_limit(want);
        s = r_.stub->ReadAll(&ctx, req, &page);
      } else {
        v1::ReadStreamRequest req;
        req.set_stream(q.stream);
        req.set_from_version(from);
        req.set_backward(q.backward);
        req.set_limit(want);
        s = r_.stub->ReadStream(&ctx, req, &page);
      }
      if (!s.ok()) return from_grpc(s, g_);
      if (page.events().empty()) break;
      for (auto& e : *page.mutable_events()) events.push_back(std::move(e));
      const auto& last = events.back();
      if (q.stream.empty()) from = last.position() + 1;
      else if (q.backward) {
        if (last.version() <= 1) break;
        from = last.version() - 1;
      } else {
        from = last.version() + 1;
      }
    }
    return events;
  }

  // The Subscribe RPC, on a thread of its own until destroyed (the call cancelled).
  Result<std::unique_ptr<Following>> follow(std::uint64_t from, OnPage on_page, OnEnd on_end) override {
    if (from == 0) {  // "now" is the log's end when follow returns, not when the server reads the call
      grpc::ClientContext ctx;
      r_.prepare(ctx);
      v1::ReadAllRequest req;
      req.set_from_position(UINT64_MAX);
      req.set_limit(1);
      v1::ReadResponse reply;
      if (auto s = r_.stub->ReadAll(&ctx, req, &reply); !s.ok()) return from_grpc(s, g_);
      from = reply.last_position() + 1;
    }
    class RemoteFollowing final : public Following {
     public:
      RemoteFollowing(const Remote& r, const GlobalOptions& g, std::uint64_t from, OnPage on_page, OnEnd on_end) {
        r.authorize(ctx_);  // no deadline: a subscription lasts
        v1::SubscribeRequest req;
        req.set_from_position(from);
        thread_ = std::thread([this, &r, g, req, on_page = std::move(on_page), on_end = std::move(on_end)] {
          auto reader = r.stub->Subscribe(&ctx_, req);
          v1::SubscribePage page;
          while (reader->Read(&page))
            if (!page.events().empty()) on_page({page.events().begin(), page.events().end()});
          auto s = reader->Finish();
          if (!stopped_) on_end(s.ok() ? Status::network("the server ended the subscription") : from_grpc(s, g, "the subscription ended: "));
        });
      }
      ~RemoteFollowing() override {
        stopped_ = true;
        ctx_.TryCancel();
        thread_.join();
      }

     private:
      grpc::ClientContext ctx_;
      std::atomic<bool> stopped_{false};
      std::thread thread_;
    };
    return std::unique_ptr<Following>(std::make_unique<RemoteFollowing>(r_, g_, from, std::move(on_page), std::move(on_end)));
  }

 private:
  Remote r_;
  GlobalOptions g_;  // for the words of errors: the address, the token file
};

}  // namespace

Result<std::unique_ptr<Ledger>> connect(const GlobalOptions& g) {
  auto r = remote(g);
  if (!r) return r.status();
  GlobalOptions words = g;
  words.connect = nullptr;
  return std::unique_ptr<Ledger>(std::make_unique<RemoteLedger>(std::move(*r), std::move(words)));
}

void add_client_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  g.connect = connect;
  {
    auto a = std::make_shared<SubscribeArgs>();
    auto* s = app.add_subcommand("subscribe", "print events from a running server, one JSON object a line");
    s->add_option("--from", a->from, "first position (default 1)");
    s->add_flag("--from-now", a->from_now, "only events appended from now on");
    s->add_option("--stream-prefix", a->prefix, "e.g. deal-");
    s->add_option("--stream", a->stream, "one stream only, e.g. deal-acme-corp");
    s->add_option("--type", a->types, "event type (repeatable), e.g. ActionStarted");
    s->add_option("--name", a->name, "a named subscription: acknowledges each event, resumes after the last");
    s->add_option("--limit", a->limit, "exit after N events");
    s->callback([&, a] { action = [&g, a] { return subscribe(g, *a); }; });
  }
}

}  // namespace leanos::cli
