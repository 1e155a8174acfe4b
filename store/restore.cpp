// Restoring a log from its JetStream copy (store/nats.h): the policy every surface shares;
// `leanos restore --from-nats` (tools/server/relay.cpp) makes the folder and prints.
#include <set>

#include "store/nats.h"
#include "store/personal.h"

namespace leanos::store {

Result<RestoreReport> restore(JetStreamLog& log, EventStore& store) {
  auto t = log.tail();
  if (!t) return t.status();
  const std::uint64_t start = store.last_position();
  if (start > 0) {  // from a backup: JetStream must hold the same event where the backup ends
    if (start > t->position)
      return Status::invalid("the backup ends at position " + std::to_string(start) + ", past what JetStream holds (" +
                             std::to_string(t->position) + "): nothing to add");
    auto there = log.event_id_at(start);
    if (!there) return there.status();
    auto mine = store.read_event(start);
    if (!mine) return mine.status();
    if (*there != mine->event_id())
      return Status::conflict("the backup holds event " + mine->event_id() + " at position " + std::to_string(start) +
                              " where JetStream holds " + *there + ": they are copies of different logs");
  }
  // The keys of the sealed events, before the events: they open only under the workspace's
  // master key, which install_keys checks.
  auto keys = log.read_keys();
  if (!keys) return keys.status();
  if (auto s = store.install_keys(*keys); !s)
    return Status(s.code(), "the JetStream copy holds its personal fields sealed: " + s.message());
  std::vector<v1::Envelope> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::success();
    auto r = store.replicate(std::move(batch));
    batch.clear();
    return r ? Status::success() : r.status();
  };
  std::set<std::string> sealed_subjects, forgotten;  // raw hashes
  auto take = [&](v1::Envelope&& e) {
    if (e.has_sealed()) sealed_subjects.insert(e.sealed().subject());
    if (e.has_subject_forgotten())
      if (auto hash = subject_hash_from_hex(e.subject_forgotten().subject_hash())) forgotten.insert(*hash);
    batch.push_back(std::move(e));
    return batch.size() >= 1024 ? flush() : Status::success();
  };
  for (std::uint64_t done = start;;) {
    auto now = log.tail();
    if (!now) return now.status();
    if (now->position <= done) break;
    if (auto s = log.read(done + 1, take, now->position); !s) return s;
    done = now->position;
  }
  if (auto s = flush(); !s) return s;
  // Every sealed event's key came too, unless its person was forgotten.
  std::vector<std::string> needed;
  for (const auto& hash : sealed_subjects)
    if (!forgotten.count(hash)) needed.push_back(hash);
  if (auto s = log.install_missing_keys(store, needed); !s) return s;
  const auto report = store.verify();
  if (!report.problems.empty()) {
    std::string what;
    for (const auto& p : report.problems) what += "; position " + std::to_string(p.position) + ": " + p.what;
    return Status::corruption("the restored log does not verify" + what);
  }
  return RestoreReport{start, store.last_position() - start};
}

}  // namespace leanos::store
