// The floor of `leanos bench append --server`: what gRPC and the disk allow on this machine,
// measured in the same run as the store. `leanos bench floor-serve` (not for people) serves
// the Ledger service's Append and AppendStream with the server's own reactors, settings and
// listener; each request is parsed as the server parses it, its events written to one file
// and the file fdatasync'ed (unless --relaxed) before the answer, concurrent requests
// group-committed as the store does (a writer thread; a lone request committed by the thread
// that read it; the previous group's callers waited for up to 100 µs). What it leaves out is
// the store's own work: RocksDB, versions, ids, indexes — so store/floor is what that costs.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "leanos/v1/api.grpc.pb.h"
#include "tools/bench/bench.h"
#include "tools/server/acceptor.h"
#include "tools/server/ledger_service.h"
#include "tools/server/server.h"

namespace leanos::cli {

namespace {

// One file, appended to by group commits.
class FloorLog {
 public:
  using Written = std::function<void(std::uint64_t first_position)>;

  FloorLog(int fd, bool sync) : fd_(fd), sync_(sync), writer_([this] { writer_loop(); }) {}
  ~FloorLog() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    writer_.join();
    ::close(fd_);
  }

  void append(std::string record, std::uint32_t events, Written then) {
    Pending p{std::move(record), events, std::move(then)};
    std::unique_lock lock(mu_);
    if (!committing_ && queue_.empty() && last_group_ <= 1) {  // alone: committed here
      committing_ = true;
      lock.unlock();
      std::vector<Pending> group;
      group.push_back(std::move(p));
      commit(group);
      lock.lock();
      committing_ = false;
      if (queue_.empty()) return;
    } else {
      queue_.push_back(std::move(p));
      if (committing_ || queue_.size() != wanted_) return;
    }
    lock.unlock();
    cv_.notify_one();
  }

 private:
  struct Pending {
    std::string record;
    std::uint32_t events;
    Written then;
  };

  void writer_loop() {
    std::vector<Pending> group;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !committing_ && (stopping_ || !queue_.empty()); });
        if (queue_.empty()) return;
        if (last_group_ > 1 && queue_.size() < last_group_) {
          wanted_ = last_group_;
          cv_.wait_for(lock, std::chrono::microseconds(100), [&] { return stopping_ || queue_.size() >= last_group_; });
          wanted_ = 1;
        }
        const std::size_t n = std::min<std::size_t>(queue_.size(), 512);
        for (std::size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        committing_ = true;
        last_group_ = group.size();
      }
      commit(group);
      group.clear();
      std::lock_guard lock(mu_);
      committing_ = false;
    }
  }

  // One write and one fdatasync for the group, then each answered. A failed write ends the
  // process: the floor is a measurement, and a measurement past a failed write is none.
  void commit(std::vector<Pending>& group) {
    std::string bytes;
    for (const auto& p : group) bytes += p.record;
    for (std::size_t at = 0; at < bytes.size();) {
      const auto n = ::write(fd_, bytes.data() + at, bytes.size() - at);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("floor: write");
        std::_Exit(1);
      }
      at += static_cast<std::size_t>(n);
    }
    if (sync_ && ::fdatasync(fd_) != 0) {
      std::perror("floor: fdatasync");
      std::_Exit(1);
    }
    for (auto& p : group) {
      const std::uint64_t first = position_ + 1;
      position_ += p.events;
      p.then(first);
    }
  }

  const int fd_;
  const bool sync_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool committing_ = false, stopping_ = false;
  std::size_t last_group_ = 0, wanted_ = 1;
  std::uint64_t position_ = 0;  // the writer's (under committing_)
  std::thread writer_;
};

// The request parsed as ServedWorkspace::submit_append parses it, its events serialized into
// the record; the answer names the positions, as the store's does.
class FloorAppender final : public Appender {
 public:
  explicit FloorAppender(FloorLog& log) : log_(log) {}
  void submit_append(const grpc::ByteBuffer& wire, Appended done) override {
    grpc::ByteBuffer bytes(wire);
    v1::AppendRequest req;
    if (auto s = grpc::SerializationTraits<grpc::protobuf::MessageLite>::Deserialize(&bytes, &req); !s.ok()) return done(s, {});
    std::string record;
    for (const auto& e : req.events()) e.AppendToString(&record);
    const auto events = static_cast<std::uint32_t>(req.events_size());
    log_.append(std::move(record), events, [done = std::move(done), stream = req.stream(), events](std::uint64_t first) {
      v1::AppendResponse response;
      response.set_stream(stream);
      for (std::uint32_t i = 0; i < events; ++i) response.add_positions(first + i);
      response.set_stream_version(events);
      done(grpc::Status::OK, response);
    });
  }

 private:
  FloorLog& log_;
};

using FloorBase = v1::Ledger::WithRawCallbackMethod_AppendStream<v1::Ledger::WithRawCallbackMethod_Append<v1::Ledger::Service>>;

class FloorService final : public FloorBase {
 public:
  explicit FloorService(Appender& appender) : appender_(appender) {}
  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext*, const grpc::ByteBuffer* wire, grpc::ByteBuffer* out) override {
    return append_call(appender_, nullptr, *wire, out);
  }
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AppendStream(grpc::CallbackServerContext*) override {
    return append_stream_call(appender_, nullptr);
  }

 private:
  Appender& appender_;
};

int floor_serve(const GlobalOptions& g, const std::string& dir) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const std::string path = dir + "/floor.log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Status::io("floor: cannot open " + path + ": " + std::strerror(errno)));
  FloorLog log(fd, !g.relaxed);
  FloorAppender appender(log);
  FloorService service(appender);
  auto acceptor = Acceptor::listen("127.0.0.1:0");
  if (!acceptor) return fail(acceptor.status());
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  configure_server(builder);
  auto server = builder.BuildAndStart();
  if (!server) return fail(Status::unavailable("floor: the gRPC server did not start"));
  (*acceptor)->start(*server);
  std::printf("listening on 127.0.0.1:%d (the floor: %s)\n", (*acceptor)->port(), path.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  acceptor->reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}

}  // namespace

void add_bench_floor(CLI::App* bench, GlobalOptions& global, Action& action) {
  auto dir = std::make_shared<std::string>();
  auto* floor = bench->add_subcommand("floor-serve", "");  // `bench append --server`'s floor; not for people
  floor->group("");
  floor->add_option("--dir", *dir)->required();
  floor->callback([&, dir] { action = [&global, dir] { return floor_serve(global, *dir); }; });
}

}  // namespace leanos::cli
