// The gRPC server: Append, Command (the workflow's rules, through the actors), ReadStream,
// ReadAll, Subscribe (catch-up then live), Ack (named subscriptions) and Query (the query
// layer's typed views); `leanos serve`, and a LocalServer for benchmarks. The CLI's side of
// the wire is tools/server/client.cpp; errors as gRPC statuses status.cpp; the service of
// one workspace ledger_service.cpp, Subscribe's reactors subscription.cpp, many workspaces
// in one server workspaces.cpp.
#include "tools/server/server.h"
#include "tools/bridge/import_command.h"

#include <sys/resource.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include "actors/queries.h"
#include "actors/ledger.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "store/live_feed.h"
#include "store/nats.h"
#include "store/personal.h"
#include "tools/server/http.h"
#include "tools/server/secret.h"
#include "tools/server/acceptor.h"
#include "tools/server/status.h"
#include "tools/server/subscription.h"
#include "tools/server/ledger_service.h"
#include "tools/server/workspaces.h"
#include "tools/server/client.h"
#include "leanos/v1/api.grpc.pb.h"

namespace leanos::cli {

namespace {

struct ServeArgs {
  std::string workspaces;  // DIR of many workspaces; "" serves the data folder
  std::string relay_nats;  // relay every workspace into JetStream at this URL; "" for none
  int relay_replicas = 1;
  double close_idle = 600;  // seconds: a workspace unused that long is closed (0: never)
  std::string listen = "127.0.0.1:7700";
  std::string http;  // ADDRESS:PORT of the dashboard and JSON API; "" for none
  std::string tls_cert, tls_key;
};

int serve(const GlobalOptions& g, const ServeArgs& a) {
  // Signals are taken by sigwait on this thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string token;
  if (!g.token_file.empty()) {
    auto t = read_token(g.token_file);
    if (!t) return fail(t.status());
    token = *t;
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  const bool tls = !a.tls_cert.empty() || !a.tls_key.empty();
  if (tls) {
    if (a.tls_cert.empty() || a.tls_key.empty()) return fail(Status::invalid("--tls-cert and --tls-key go together"));
    auto key = read_text_file(a.tls_key);
    if (!key) return fail(key.status());
    auto cert = read_text_file(a.tls_cert);
    if (!cert) return fail(cert.status());
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  // One workspace (the data folder), or every workspace under --workspaces DIR.
  StoreRef store;
  std::unique_ptr<LocalLedger> ledger;
  std::unique_ptr<ServedWorkspace> single;
  std::unique_ptr<Workspaces> many;
  std::unique_ptr<LedgerService> service;
  std::unique_ptr<RelayThread> relay;
  store::JetStreamOptions nats;
  nats.url = a.relay_nats;
  nats.replicas = a.relay_replicas;
  if (a.workspaces.empty()) {
    auto opened = open_store(g, Access::record);
    if (!opened) return fail(opened.status());
    store = std::move(*opened);
    ledger = std::make_unique<LocalLedger>(*store, LocalLedger::Start::now);
    ledger->set_importer(importer());
    single = std::make_unique<ServedWorkspace>(*ledger, token);
    service = std::make_unique<LedgerService>(only(*single));
    if (!nats.url.empty()) {
      auto name = workspace_of(g);
      if (!name) return fail(name.status());
      nats.workspace = *name;
      relay = std::make_unique<RelayThread>(*store, nats);
    }
  } else {
    if (!g.token_file.empty())
      return fail(Status::invalid("with --workspaces each workspace has its own token (DIR/NAME.token): drop --token-file"));
    std::error_code ec;
    if (!std::filesystem::is_directory(a.workspaces, ec))
      return fail(Status::not_found("no folder " + a.workspaces + ": create a workspace in it first (leanos workspace create NAME --workspaces " +
                                    a.workspaces + ")"));
    many = std::make_unique<Workspaces>(a.workspaces, nats, std::chrono::milliseconds(std::llround(a.close_idle * 1000)));
    service = std::make_unique<LedgerService>(many->router());
    if (!nats.url.empty())  // every workspace is relayed from the start, not from its first call
      for (const auto& entry : std::filesystem::directory_iterator(a.workspaces, ec))
        if (entry.is_directory() && store::check_workspace_name(entry.path().filename().string()).is_ok())
          if (auto opened = many->open(entry.path().filename().string()); !opened) return fail(opened.status());
  }
  auto stop_subscriptions = [&] {
    if (single) single->feed.stop();
    if (many) many->stop_subscriptions();
  };
  // Plaintext: our own listener, which survives running out of file descriptors (see
  // tools/server/acceptor.h). TLS: gRPC's, which needs the handshake it runs itself.
  std::unique_ptr<Acceptor> acceptor;
  if (!tls) {
    auto listening = Acceptor::listen(a.listen);
    if (!listening) return fail(listening.status());
    acceptor = std::move(*listening);
  }
  // Idle connections cost a descriptor each: use them all, and close what is idle or dead.
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    if (tls) builder.AddListeningPort(a.listen, creds, &port);
    builder.RegisterService(service.get());
    configure_server(builder);
    auto server = builder.BuildAndStart();
    if (acceptor && server) {
      acceptor->start(*server);
      port = acceptor->port();
    }
    if (!server || port == 0)
      return fail(Status::unavailable("cannot listen on " + a.listen +
                                      ": the port is in use (is another `leanos serve` running?) or that is not an "
                                      "ADDRESS:PORT; pick another with --listen or LEANOS_PORT"));
    const std::string host = a.listen.substr(0, a.listen.rfind(':'));
    std::unique_ptr<HttpApi> http;
    if (!a.http.empty()) {
      HttpWorkspaces workspaces;
      if (many)
        workspaces = [&many](const std::string& name) -> Result<HttpWorkspace> {
          auto lease = many->open(name);
          if (!lease) return lease.status();
          auto& served = *(*lease)->served;
          return HttpWorkspace{(*lease)->store.get(), (*lease)->ledger.get(), &served.feed, served.token, std::move(*lease)};
        };
      else
        workspaces = [&store, &ledger, &single, &token](const std::string&) -> Result<HttpWorkspace> {
          return HttpWorkspace{store.get(), ledger.get(), &single->feed, token, nullptr};
        };
      auto started = HttpApi::start(std::move(workspaces), many != nullptr, a.http);
      if (!started) {
        stop_subscriptions();
        server->Shutdown(std::chrono::system_clock::now());
        return fail(started.status());
      }
      http = std::move(*started);
    }
    if (many)
      std::printf("listening on %s:%d (workspaces in %s, a token each)\n", host.c_str(), port, a.workspaces.c_str());
    else
      std::printf("listening on %s:%d (data %s, %s)\n", host.c_str(), port, g.data.c_str(), token.empty() ? "no token" : "token required");
    if (http) {
      std::string http_host = a.http.substr(0, a.http.rfind(':'));
      std::printf("dashboard on http://%s:%d/%s\n", http_host.c_str(), http->port(), many ? "w/NAME/" : "");
    }
    std::fflush(stdout);
    spdlog::info("serve: listening on {}:{}", host, port);
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("serve: signal {}, shutting down", sig);
    acceptor.reset();      // no new connections
    stop_subscriptions();  // subscriptions and event streams end; in-flight unary calls finish
    http.reset();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server->Wait();
  }
  if (store) std::printf("stopped at position %llu\n", static_cast<unsigned long long>(store->last_position()));
  else std::printf("stopped\n");
  return 0;
}

int create_workspace(const GlobalOptions& g, const std::string& dir, const std::string& name) {
  if (!g.server.empty()) return fail(Status::invalid("workspace create works on the server's folder, on its machine: drop --server"));
  if (auto s = store::check_workspace_name(name); !s) return fail(s);
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string data = dir + "/" + name;
  if (fs::exists(data, ec)) return fail(Status::exists("workspace '" + name + "' exists already in " + dir));
  fs::create_directories(dir, ec);
  if (ec) return fail(Status::io("cannot create " + dir + ": " + ec.message()));
  // The token: 32 random bytes, hex, readable by its owner only.
  std::ifstream random("/dev/urandom", std::ios::binary);
  unsigned char bytes[32];
  if (!random.read(reinterpret_cast<char*>(bytes), sizeof bytes)) return fail(Status::io("cannot read /dev/urandom"));
  const std::string token_file = workspace_token_file(dir, name);
  const std::string token = store::to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  if (auto s = store::write_secret_file(token_file, token + "\n", "token file"); !s) return fail(s);
  GlobalOptions target = g;
  target.data = data;
  target.master_key_file.clear();  // its own, beside its folder
  auto store = open_store(target, Access::build);
  if (!store) return fail(store.status());
  std::printf("created workspace %s in %s; its token is in %s (clients: --workspace %s --token-file %s)\n", name.c_str(), data.c_str(),
              token_file.c_str(), name.c_str(), token_file.c_str());
  return 0;
}

int list_workspaces(const GlobalOptions& g, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory() && store::check_workspace_name(entry.path().filename().string()).is_ok())
      names.push_back(entry.path().filename().string());
  if (ec) return fail(Status::not_found("no folder of workspaces at " + dir + ": " + ec.message()));
  std::sort(names.begin(), names.end());
  if (g.json) {
    std::printf("[");
    for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s\"%s\"", i ? "," : "", names[i].c_str());
    std::printf("]\n");
  } else {
    for (const auto& n : names) std::printf("%s\n", n.c_str());
  }
  return 0;
}

}  // namespace

LocalServer::LocalServer(store::EventStore& store) : ledger_(std::make_unique<LocalLedger>(store, LocalLedger::Start::now)) {
  ledger_->set_importer(importer());
  served_ = std::make_unique<ServedWorkspace>(*ledger_, "");
  auto service = std::make_unique<LedgerService>(only(*served_));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service.get());
  server_ = builder.BuildAndStart();
  service_ = std::move(service);
}

LocalServer::~LocalServer() {
  if (server_) {
    served_->feed.stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
}

Result<std::unique_ptr<LocalServer>> LocalServer::start(store::EventStore& store) {
  std::unique_ptr<LocalServer> s(new LocalServer(store));
  if (!s->server_ || s->port_ == 0) return Status::unavailable("cannot start a server on 127.0.0.1");
  return s;
}

void configure_server(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  // gRPC sets SO_REUSEPORT by default: a second server on the same port would "listen"
  // too, and clients would alternate between two workspaces. One port, one server.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 256);            // per connection
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);  // no call for 5 min: closed
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2 * 60 * 1000);       // a half-open peer is found
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);        // within 2 min 20 s
}

void add_server_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  {
    auto a = std::make_shared<ServeArgs>();
    auto* s = app.add_subcommand("serve", "run the gRPC server on the data folder");
    s->add_option("--listen", a->listen, "address:port (default 127.0.0.1:7700; port 0 picks a free one)");
    s->add_option("--tls-cert", a->tls_cert, "PEM certificate (with --tls-key): serve TLS");
    s->add_option("--tls-key", a->tls_key, "PEM private key");
    s->add_option("--http", a->http, "also serve the dashboard and the JSON API over HTTP on address:port (e.g. 127.0.0.1:7701)");
    s->add_option("--relay-nats", a->relay_nats,
                  "also relay the log (every workspace's) into NATS JetStream at URL[,URL…] while serving (see `leanos relay`)");
    s->add_option("--relay-replicas", a->relay_replicas, "replicas of a JetStream stream the relay creates (default 1)")
        ->check(CLI::Range(1, 5));
    s->add_option("--workspaces", a->workspaces,
                  "serve every workspace under DIR (made with `leanos workspace create`); calls name theirs (--workspace)");
    s->add_option("--close-idle", a->close_idle,
                  "with --workspaces: close a workspace no call, subscription or event stream used for this many seconds "
                  "(default 600; 0: never)")
        ->check(CLI::NonNegativeNumber);
    s->callback([&, a] { action = [&g, a] { return serve(g, *a); }; });
  }
  {
    auto* w = app.add_subcommand("workspace", "workspaces of a server that hosts many (serve --workspaces DIR)");
    w->require_subcommand(1);
    auto dir = std::make_shared<std::string>("workspaces");
    auto name = std::make_shared<std::string>();
    auto* create = w->add_subcommand("create", "a new workspace DIR/NAME with its own token file DIR/NAME.token (mode 0600)");
    create->add_option("name", *name, "1-64 of a-z, 0-9, '-', '_'")->required();
    create->add_option("--workspaces", *dir, "the server's folder of workspaces (default ./workspaces)");
    create->callback([&, dir, name] { action = [&g, dir, name] { return create_workspace(g, *dir, *name); }; });
    auto* list = w->add_subcommand("list", "the workspaces under DIR");
    list->add_option("--workspaces", *dir, "the server's folder of workspaces (default ./workspaces)");
    list->callback([&, dir] { action = [&g, dir] { return list_workspaces(g, *dir); }; });
  }
}

}  // namespace leanos::cli
