// `leanos serve`: the gRPC service over one workspace, or many (--workspaces).
#pragma once

#include <memory>

#include "tools/cli/cli.h"

namespace grpc {
class Server;
class ServerBuilder;
class Service;
}  // namespace grpc

namespace leanos {
class LocalLedger;
}

namespace leanos::cli {

class ServedWorkspace;

void add_server_commands(CLI::App& app, GlobalOptions& global, Action& action);

// The settings of `leanos serve`'s gRPC server (message size, one port, streams per
// connection, idle and keepalive limits): the floor of `bench append --server` uses them too.
void configure_server(grpc::ServerBuilder& builder);

// The service on 127.0.0.1 and a free port, in this process, over `store` (no token): for
// benchmarks that measure the wire. Stops its subscriptions and shuts down when destroyed.
class LocalServer {
 public:
  static Result<std::unique_ptr<LocalServer>> start(store::EventStore& store);
  ~LocalServer();
  int port() const { return port_; }

 private:
  explicit LocalServer(store::EventStore& store);
  std::unique_ptr<LocalLedger> ledger_;
  std::unique_ptr<ServedWorkspace> served_;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace leanos::cli
