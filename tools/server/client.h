// `leanos subscribe` and every command's --server path (the gRPC client side).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "leanos/v1/api.grpc.pb.h"
#include "tools/cli/cli.h"

namespace leanos::cli {

// A client of --server: the stub, and the token every call carries.
struct Remote {
  std::unique_ptr<v1::Ledger::Stub> stub;
  std::string token;
  std::string workspace;  // on a server hosting many
  void authorize(grpc::ClientContext& ctx) const {
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    if (!workspace.empty()) ctx.AddMetadata("leanos-workspace", workspace);
  }
  // A unary call: authorized, and given up after 30 s.
  void prepare(grpc::ClientContext& ctx) const {
    authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  }
};

// HOST:PORT, or HOST alone for the server's default port (gRPC would try 443).
std::string server_address(const std::string& server);
// A stub for --server, with the token of --token-file.
Result<Remote> remote(const GlobalOptions& g);
// The client's view of a failed call: what the server said, with the CLI's own code.
Status from_grpc(const grpc::Status& s, const GlobalOptions& g, const std::string& context = "");

// The ledger of the running server --server names (a RemoteLedger): what GlobalOptions::connect holds.
Result<std::unique_ptr<Ledger>> connect(const GlobalOptions& g);

// The workspace's name for the relay: --workspace, else (on the data folder) the folder's name.
Result<std::string> workspace_of(const GlobalOptions& g);

// Registers `relay`, `relay status` and `restore` (the log in NATS JetStream; relay.cpp).
void add_relay_commands(CLI::App& app, GlobalOptions& global, Action& action);

// Registers `subscribe`, and sets GlobalOptions::connect: how every command reaches --server.
void add_client_commands(CLI::App& app, GlobalOptions& global, Action& action);

}  // namespace leanos::cli
