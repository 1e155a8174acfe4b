// A real `leanos serve` process on a free loopback port, and small gRPC helpers, shared by the
// server and soak tests.
#pragma once

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "leanos/v1/api.grpc.pb.h"
#include "tests/support.h"

namespace leanos::test {

using v1::Envelope;

// A `leanos serve` child; its first stdout line names the port it listens on.
class Server {
 public:
  // `open_files` > 0: the server runs with at most that many file descriptors (soft and hard).
  explicit Server(const std::string& data, const std::vector<std::string>& extra = {}, rlim_t open_files = 0) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (open_files > 0) {
        const rlimit limit{open_files, open_files};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<std::string> args = {LEANOS_BINARY_PATH, "serve", "--listen", "127.0.0.1:0", "--data", data};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[256] = {0};
    REQUIRE(std::fgets(line, sizeof line, out_) != nullptr);
    int port = 0;
    REQUIRE(std::sscanf(line, "listening on 127.0.0.1:%d", &port) == 1);
    address_ = "127.0.0.1:" + std::to_string(port);
    // With --http, the second line names the dashboard's port.
    for (std::size_t i = 0; i + 1 < extra.size(); ++i)
      if (extra[i] == "--http") {
        REQUIRE(std::fgets(line, sizeof line, out_) != nullptr);
        REQUIRE(std::sscanf(line, "dashboard on http://127.0.0.1:%d", &http_port_) == 1);
      }
    stub_ = v1::Ledger::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }
  ~Server() {
    if (pid_ > 0) stop(SIGKILL);
  }
  // Sends `sig` and returns the exit code (128 + signal when killed).
  int stop(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    std::fclose(out_);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  v1::Ledger::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }
  int http_port() const { return http_port_; }
  // Resident memory of the server process, in KiB: now, and the most it ever had.
  long rss_kib() const { return status_kib("VmRSS:"); }
  long peak_rss_kib() const { return status_kib("VmHWM:"); }

 private:
  long status_kib(const std::string& field) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
    return -1;
  }

  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string address_;
  int http_port_ = 0;
  std::unique_ptr<v1::Ledger::Stub> stub_;
};

inline Envelope note(const std::string& type = "NoteTaken") {
  Envelope e;
  e.set_type(type);
  e.mutable_generic()->set_blob("x");
  return e;
}

inline grpc::Status append(v1::Ledger::Stub& stub, const std::string& stream, std::vector<Envelope> events,
                    v1::AppendResponse* out, const std::string& expected = "any", const std::string& token = "") {
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  v1::AppendRequest req;
  req.set_stream(stream);
  req.set_expected_version(expected);
  for (auto& e : events) *req.add_events() = std::move(e);
  return stub.Append(&ctx, req, out);
}

// Reads a subscription until an event of type "End"; returns the positions received.
// `wait_for_ready`: the call waits for the connection (a new channel's first connect may fail
// once on a busy machine) instead of failing with UNAVAILABLE.
inline std::vector<std::uint64_t> collect(v1::Ledger::Stub& stub, v1::SubscribeRequest req, bool wait_for_ready = false) {
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(wait_for_ready);
  auto reader = stub.Subscribe(&ctx, req);
  std::vector<std::uint64_t> got;
  v1::SubscribePage page;
  bool end = false;
  while (!end && reader->Read(&page)) {
    CHECK(page.checkpoint() >= (page.events().empty() ? 0 : page.events().rbegin()->position()));
    for (const auto& e : page.events()) {
      got.push_back(e.position());
      end = end || e.type() == "End";
    }
  }
  ctx.TryCancel();
  const auto status = reader->Finish();
  // A stream that ended before "End" ended on the server's word: say which.
  if (!end) MESSAGE("subscription ended after " << got.size() << " events with status " << status.error_code() << ": " << status.error_message());
  return got;
}

inline bool dense_from_1(const std::vector<std::uint64_t>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != i + 1) return false;
  return true;
}

// A server that wants a bearer token, and the CLI pointed at it with that token.
struct TokenServer {
  TempDir dir;
  std::string token_file = write_file(dir.sub("token"), "s3cret\n");
  Server server{dir.sub("data"), {"--token-file", token_file}};
  RunResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server.address(), "--token-file", token_file});
    return run_leanos(args);
  }
};

}  // namespace leanos::test
