// Appends forever from several threads and prints "position event-id" for every event
// whose append was acknowledged. The crash test kills it with SIGKILL at a random moment.
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "store/event_store.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: crash_child DIR RUN-ID\n");
    return 2;
  }
  auto opened = leanos::store::EventStore::open(argv[1]);
  if (!opened) {
    std::fprintf(stderr, "crash_child: %s\n", opened.status().to_string().c_str());
    return 1;
  }
  auto& es = **opened;
  const std::string run = argv[2];
  std::mutex out;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0;; ++i) {
        std::vector<leanos::store::Envelope> batch(1 + i % 3);
        for (std::size_t k = 0; k < batch.size(); ++k) {
          batch[k].set_type("CrashProbe");
          batch[k].set_event_id(run + "-" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(k));
          batch[k].mutable_generic()->set_blob(std::string(100, 'c'));
        }
        auto ids = batch;
        auto r = es.append("crash-" + std::to_string(t % 2), leanos::store::ExpectedVersion::any(), std::move(batch));
        if (!r) {
          std::fprintf(stderr, "crash_child: %s\n", r.status().to_string().c_str());
          return;
        }
        std::lock_guard lock(out);
        for (std::size_t k = 0; k < ids.size(); ++k)
          std::printf("%llu %s\n", static_cast<unsigned long long>(r->positions[k]), ids[k].event_id().c_str());
        std::fflush(stdout);
      }
    });
  for (auto& th : threads) th.join();
  return 1;
}
