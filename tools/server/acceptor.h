// The server's own TCP listener for plaintext gRPC: accepts connections and hands each to
// gRPC (grpc::AddInsecureChannelFromFd).
//
// Why not gRPC's listener: in gRPC 1.51 the first accept4() that fails with EMFILE (out of
// file descriptors, e.g. 21,000 idle connections) stops the listener for good, and the
// server never accepts again even after the connections close. Here, when the process is out
// of descriptors, a reserved one is released to accept the waiting connection and close it
// at once (the client sees the connection refused, not a hang), and the listener goes on;
// once descriptors are free again, connections are served as before.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>
#include <thread>

#include "events/result.h"

namespace leanos::cli {

class Acceptor {
 public:
  // Binds ADDRESS:PORT (port 0 picks a free one; SO_REUSEPORT off, so a port in use is an
  // error) and listens. Call start() once the server is built.
  static Result<std::unique_ptr<Acceptor>> listen(const std::string& address);
  ~Acceptor();  // stops accepting
  int port() const { return port_; }
  void start(grpc::Server& server);
  std::uint64_t refused() const { return refused_; }

 private:
  Acceptor(int fd, int port);
  void loop(grpc::Server& server);
  int fd_;
  int port_;
  int wake_[2] = {-1, -1};
  int spare_ = -1;  // a descriptor held in reserve for the EMFILE case
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace leanos::cli
