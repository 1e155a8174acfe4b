// `leanos relay`, `leanos relay status` and `leanos restore --from-nats`: the log into a NATS
// JetStream stream and back (store/nats.h does the work; this file reads the options, the
// log's side — a running server or the data folder — and prints).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "events/ids.h"
#include "store/nats.h"
#include "store/personal.h"
#include "tools/server/client.h"

namespace leanos::cli {

namespace {

struct RelayArgs {
  std::string url, name = "relay-nats";
  int replicas = 1;
  int dedup_seconds = 120;
  int timeout_ms = 5000;
  bool once = false;
};

}  // namespace

// In the single-folder mode a workspace is named after its folder.
Result<std::string> workspace_of(const GlobalOptions& g) {
  const std::string& given = g.workspace;
  std::string name = given;
  if (name.empty()) {
    if (!g.server.empty())
      return Status::invalid("--workspace NAME is required with --server: the server's folder is not known here");
    name = std::filesystem::absolute(g.data).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::absolute(g.data).lexically_normal().parent_path().filename().string();
  }
  if (auto s = store::check_workspace_name(name); !s)
    return given.empty() ? Status::invalid(s.message() + "; the folder's name is used when --workspace is not given: give one")
                         : s;
  return name;
}

namespace {

store::JetStreamOptions nats_options(const RelayArgs& a, const std::string& workspace) {
  store::JetStreamOptions o;
  o.url = a.url;
  o.workspace = workspace;
  o.replicas = a.replicas;
  o.dedup_window = std::chrono::seconds(a.dedup_seconds);
  o.timeout = std::chrono::milliseconds(a.timeout_ms);
  return o;
}

// The position of a running server's newest event.
Result<std::uint64_t> server_last_position(const GlobalOptions& g, const Remote& remote) {
  grpc::ClientContext ctx;
  remote.prepare(ctx);
  v1::ReadAllRequest req;
  req.set_from_position(UINT64_MAX);
  req.set_limit(1);
  v1::ReadResponse reply;
  if (auto s = remote.stub->ReadAll(&ctx, req, &reply); !s.ok()) return from_grpc(s, g);
  return reply.last_position();
}

// The log of a running server: its subscription from a position, acknowledged by name.
class ServerSource final : public store::RelaySource {
 public:
  ServerSource(const GlobalOptions& g, Remote remote, std::string name, bool once)
      : g_(g), remote_(std::move(remote)), name_(std::move(name)), once_(once) {}
  ~ServerSource() override { stop(); }
  Result<std::string> event_id_at(std::uint64_t position) override {
    grpc::ClientContext ctx;
    remote_.prepare(ctx);
    v1::ReadAllRequest req;
    req.set_from_position(position);
    req.set_limit(1);
    v1::ReadResponse reply;
    if (auto s = remote_.stub->ReadAll(&ctx, req, &reply); !s.ok()) return from_grpc(s, g_);
    if (reply.events().empty() || reply.events(0).position() != position) return Status::not_found("position " + std::to_string(position));
    return reply.events(0).event_id();
  }
  Status start(std::uint64_t position) override {
    stop();
    ended_ = false;
    if (once_) {  // stop at the log's end as of now
      auto last = server_last_position(g_, remote_);
      if (!last) return last.status();
      until_ = *last;
      if (position > until_) {
        ended_ = true;
        return Status::success();
      }
    }
    ctx_ = std::make_unique<grpc::ClientContext>();
    remote_.authorize(*ctx_);
    v1::SubscribeRequest req;
    req.set_from_position(position);
    req.set_sealed(true);  // as stored: JetStream never holds a personal field in clear
    reader_ = remote_.stub->Subscribe(ctx_.get(), req);
    return Status::success();
  }
  Result<std::optional<std::vector<v1::Envelope>>> next() override {
    if (ended_) return std::optional<std::vector<v1::Envelope>>();
    v1::SubscribePage page;
    if (!reader_->Read(&page)) {
      auto s = reader_->Finish();
      reader_.reset();
      return from_grpc(s.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server ended the subscription") : s, g_,
                       "the subscription ended: ");
    }
    ended_ = once_ && page.checkpoint() >= until_;  // --once: this page reaches the end it saw at the start
    auto& events = *page.mutable_events();
    return std::optional(std::vector<v1::Envelope>(std::make_move_iterator(events.begin()), std::make_move_iterator(events.end())));
  }
  Status acknowledge(std::uint64_t position) override {
    grpc::ClientContext ctx;
    remote_.prepare(ctx);
    v1::AckRequest req;
    req.set_name(name_);
    req.set_position(position);
    v1::AckResponse none;
    if (auto s = remote_.stub->Ack(&ctx, req, &none); !s.ok()) return from_grpc(s, g_, "recording the relay's checkpoint: ");
    return Status::success();
  }
  Result<store::EventStore::WrappedKeys> keys(std::span<const std::string> subjects) override {
    v1::ReadKeysRequest req;
    for (const auto& s : subjects) req.add_subjects(s);
    return read_keys(req);
  }
  Result<store::EventStore::WrappedKeys> keys_page(const std::string& after, std::size_t limit) override {
    v1::ReadKeysRequest req;
    req.set_all(true);
    req.set_after(after);
    req.set_limit(static_cast<std::uint32_t>(limit));
    return read_keys(req);
  }

 private:
  void stop() {
    if (!reader_) return;
    ctx_->TryCancel();
    reader_->Finish();
    reader_.reset();
  }
  Result<store::EventStore::WrappedKeys> read_keys(const v1::ReadKeysRequest& req) {
    grpc::ClientContext ctx;
    remote_.prepare(ctx);
    v1::ReadKeysResponse reply;
    if (auto s = remote_.stub->ReadKeys(&ctx, req, &reply); !s.ok()) return from_grpc(s, g_, "reading the wrapped keys: ");
    store::EventStore::WrappedKeys keys;
    keys.salt = std::move(*reply.mutable_salt());
    for (auto& k : *reply.mutable_keys()) keys.subjects.emplace_back(std::move(*k.mutable_subject()), std::move(*k.mutable_record()));
    return keys;
  }
  const GlobalOptions& g_;
  Remote remote_;
  std::string name_;
  bool once_;
  bool ended_ = false;
  std::uint64_t until_ = 0;  // --once: the log's end when the relay started
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribePage>> reader_;
};

void log_line(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

int run_relay(const GlobalOptions& g, const RelayArgs& a) {
  auto workspace = workspace_of(g);
  if (!workspace) return fail(workspace.status());
  if (auto s = check_stream_name(a.name); !s) return fail(Status::invalid("--name: " + s.message()));
  store::RelayOptions o;
  o.nats = nats_options(a, *workspace);
  o.once = a.once || g.server.empty();
  o.log = o.warn = log_line;
  Result<store::RelayReport> done = Status::unavailable("");
  if (!g.server.empty()) {
    auto r = remote(g);
    if (!r) return fail(r.status());
    ServerSource source(g, std::move(*r), a.name, o.once);
    done = store::relay(source, o);
  } else {
    auto es = open_store(g, Access::read);
    if (!es) return fail(es.status());
    store::StoreSource source(**es, a.name);
    done = store::relay(source, o);
  }
  if (!done) return fail(done.status());
  const auto stream = store::jetstream_stream_name(*workspace);
  if (g.json)
    std::printf("{\"workspace\":\"%s\",\"stream\":\"%s\",\"relayed\":%llu,\"relayed_position\":%llu}\n", workspace->c_str(),
                stream.c_str(), static_cast<unsigned long long>(done->relayed), static_cast<unsigned long long>(done->held));
  else
    std::printf("relayed %llu event(s) of workspace %s: JetStream stream %s holds the log up to position %llu\n",
                static_cast<unsigned long long>(done->relayed), workspace->c_str(), stream.c_str(),
                static_cast<unsigned long long>(done->held));
  return 0;
}

// The log's end and the relay's checkpoint, from the folder or the server.
struct LogEnd {
  std::uint64_t last = 0;
  std::optional<std::uint64_t> checkpoint;  // known for the folder only
};

Result<LogEnd> log_end(const GlobalOptions& g, const std::string& name) {
  LogEnd end;
  if (!g.server.empty()) {
    auto r = remote(g);
    if (!r) return r.status();
    auto last = server_last_position(g, *r);
    if (!last) return last.status();
    end.last = *last;
    return end;
  }
  auto es = open_store(g, Access::read);
  if (!es) return es.status();
  end.last = (*es)->last_position();
  auto cp = (*es)->load_checkpoint(name);
  if (!cp) return cp.status();
  end.checkpoint = *cp;
  return end;
}

int run_relay_status(const GlobalOptions& g, const RelayArgs& a) {
  auto workspace = workspace_of(g);
  if (!workspace) return fail(workspace.status());
  auto end = log_end(g, a.name);
  if (!end) return fail(end.status());
  auto log = store::JetStreamLog::connect(nats_options(a, *workspace));
  if (!log) return fail(log.status());
  auto t = (*log)->tail();
  std::uint64_t relayed = 0;
  if (t) relayed = t->position;
  else if (t.status().code() != Code::not_found) return fail(t.status());
  const std::uint64_t lag = end->last > relayed ? end->last - relayed : 0;
  if (g.json) {
    std::printf("{\"workspace\":\"%s\",\"stream\":\"%s\",\"log_position\":%llu,\"relayed_position\":%llu,\"lag\":%llu}\n",
                workspace->c_str(), store::jetstream_stream_name(*workspace).c_str(), static_cast<unsigned long long>(end->last),
                static_cast<unsigned long long>(relayed), static_cast<unsigned long long>(lag));
  } else {
    std::printf("workspace %s: the log ends at position %llu; JetStream stream %s holds up to %llu; lag %llu event(s)\n",
                workspace->c_str(), static_cast<unsigned long long>(end->last), store::jetstream_stream_name(*workspace).c_str(),
                static_cast<unsigned long long>(relayed), static_cast<unsigned long long>(lag));
  }
  if (relayed > end->last) {
    std::fprintf(stderr, "leanos: JetStream holds more than this log: it copies another log (another workspace of the same name?)\n");
    return exit_code(Code::conflict);
  }
  return 0;
}

struct RestoreArgs {
  RelayArgs nats;
  std::string dir, backup;
};

int restore_folder(const GlobalOptions& g, const RestoreArgs& a) {
  if (!g.server.empty()) return fail(Status::invalid("restore builds a data folder on this machine; drop --server"));
  if (g.workspace.empty()) return fail(Status::invalid("--workspace NAME is required: the workspace whose stream to read"));
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a.dir, ec) && !fs::is_empty(a.dir, ec))
    return fail(Status::invalid("folder " + a.dir + " exists and is not empty: restore builds a new data folder; name one that does not exist"));
  auto log = store::JetStreamLog::connect(nats_options(a.nats, g.workspace));
  if (!log) return fail(log.status());
  if (auto t = (*log)->tail(); !t) return fail(t.status());  // before any folder is made
  if (!a.backup.empty()) {
    if (!fs::is_directory(a.backup, ec)) return fail(Status::not_found("backup folder " + a.backup + " does not exist"));
    fs::create_directories(a.dir, ec);
    fs::copy(a.backup, a.dir, fs::copy_options::recursive, ec);
    if (ec) return fail(Status::io("copying the backup " + a.backup + " into " + a.dir + ": " + ec.message()));
  }
  GlobalOptions target = g;
  target.data = a.dir;
  auto es = open_store(target, Access::build);
  if (!es) return fail(es.status());
  auto& store = **es;
  auto restored = store::restore(**log, store);
  if (!restored) return fail(restored.status());
  const std::uint64_t start = restored->from;
  if (g.json)
    std::printf("{\"dir\":\"%s\",\"from_backup\":%llu,\"restored\":%llu,\"last_position\":%llu}\n", a.dir.c_str(),
                static_cast<unsigned long long>(start), static_cast<unsigned long long>(store.last_position() - start),
                static_cast<unsigned long long>(store.last_position()));
  else
    std::printf("restored %llu event(s) from JetStream stream %s into %s%s; the log ends at position %llu; verify: clean\n",
                static_cast<unsigned long long>(store.last_position() - start), store::jetstream_stream_name(g.workspace).c_str(),
                a.dir.c_str(), start ? (" after the backup's " + std::to_string(start)).c_str() : "",
                static_cast<unsigned long long>(store.last_position()));
  return 0;
}

// A restore that fails leaves no half-made folder behind (nor an empty one it made).
int run_restore(const GlobalOptions& g, const RestoreArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool existed = fs::exists(a.dir, ec);
  const bool fresh = !existed || fs::is_empty(a.dir, ec);
  const int code = restore_folder(g, a);
  if (code != 0 && fresh) {
    if (!existed) fs::remove_all(a.dir, ec);
    else
      for (const auto& entry : fs::directory_iterator(a.dir, ec)) fs::remove_all(entry.path(), ec);
  }
  return code;
}

void nats_flags(CLI::App* c, RelayArgs& a, const std::string& flag = "--nats") {
  c->add_option(flag, a.url, "NATS server URL(s), comma-separated, e.g. nats://127.0.0.1:4222")->required();
  c->add_option("--timeout-ms", a.timeout_ms, "connect, call and acknowledgement timeout (default 5000)")->check(CLI::Range(100, 600000));
}

}  // namespace

void add_relay_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  auto a = std::make_shared<RelayArgs>();
  auto* relay = app.add_subcommand(
      "relay", "copy the log into a NATS JetStream stream, exactly once, in position order (with --server: and follow it)");
  nats_flags(relay, *a);
  relay->add_option("--name", a->name, "the relay's checkpoint name (default relay-nats)");
  relay->add_option("--replicas", a->replicas, "replicas of a stream the relay creates (default 1)")->check(CLI::Range(1, 5));
  relay->add_option("--dedup-window", a->dedup_seconds, "JetStream de-duplication window of a created stream, seconds (default 120)")
      ->check(CLI::Range(1, 86400 * 7));
  relay->add_flag("--once", a->once, "stop once JetStream holds the whole log (always so without --server)");
  relay->require_subcommand(0, 1);
  // `relay status --nats URL`: its options are the relay's (they fall through to it).
  auto* status = relay->add_subcommand("status", "how far JetStream's copy of the log is behind it");
  status->fallthrough();
  status->callback([&, a] { action = [&g, a] { return run_relay_status(g, *a); }; });
  relay->callback([&, a, status] {
    if (status->parsed()) return;
    action = [&g, a] { return run_relay(g, *a); };
  });

  auto r = std::make_shared<RestoreArgs>();
  auto* restore = app.add_subcommand("restore", "rebuild a data folder from a workspace's JetStream stream (after a lost node)");
  restore->add_option("dir", r->dir, "the data folder to create (must not exist, or be empty)")->required();
  nats_flags(restore, r->nats, "--from-nats");
  restore->add_option("--backup", r->backup, "start from this `leanos backup` folder and add what JetStream holds after it");
  restore->callback([&, r] { action = [&g, r] { return run_restore(g, *r); }; });
}

}  // namespace leanos::cli
