// The write path: the writer's group commit, the appenders' submission, replication. What
// may be stored, the appenders' preparation and the writer's validation:
// event_store_checks.cpp. Opening the store: event_store_open.cpp; personal data (subjects,
// forget, keys): event_store_privacy.cpp; reads: event_store_read.cpp.
#include "store/event_store_impl.h"

namespace leanos::store {

// ---- ExpectedVersion ----------------------------------------------------------------------

Result<ExpectedVersion> ExpectedVersion::parse(std::string_view text) {
  if (text == "any") return any();
  if (text == "no_stream" || text == "no-stream") return no_stream();
  if (text == "exists") return exists();
  if (!text.empty() && text.size() <= 19 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return exact(std::stoull(std::string(text)));
  return Status::invalid("expected version '" + std::string(text) +
                         "' is not one of any, no_stream, exists or a version number");
}

std::string ExpectedVersion::to_string() const {
  switch (kind) {
    case Kind::any: return "any";
    case Kind::no_stream: return "no_stream";
    case Kind::exists: return "exists";
    case Kind::exact: return std::to_string(version);
  }
  return "?";
}

// ---- Open and the write path -----------------------------------------------------------

namespace {

// The record of `e` as SerializeToString writes it (fields in number order), from its body:
// position, stream and version, then the body's event_id and type, recorded_at (and
// occurred_at when the writer filled it in), then the rest of the body.
void compose_record(const Envelope& e, const std::string& body, std::size_t split, bool occurred_given, std::string& out) {
  Envelope head, times;
  head.set_position(e.position());
  head.set_stream(e.stream());
  head.set_version(e.version());
  *times.mutable_recorded_at() = e.recorded_at();
  if (!occurred_given) *times.mutable_occurred_at() = e.occurred_at();
  out.clear();
  head.AppendToString(&out);
  out.append(body, 0, split);
  times.AppendToString(&out);
  out.append(body, split, std::string::npos);
}

}  // namespace

void EventStore::Impl::writer_loop() {
  std::vector<std::shared_ptr<Pending>> group;
  for (;;) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !committing && (stopping || !queue.empty()); });
      if (queue.empty()) return;  // stopping and drained
      // Commit siblings: the appenders of the last group come back one by one after
      // their acknowledgement. Give them a moment to join rather than paying an fsync
      // for the first alone. A lone appender (a last group of 1) never waits.
      if (last_group > 1 && queue.size() < last_group && options.group_wait_micros > 0) {
        wanted = last_group;
        cv.wait_for(lock, std::chrono::microseconds(options.group_wait_micros),
                    [&] { return stopping || queue.size() >= last_group; });
        wanted = 1;
      }
      const std::size_t n = std::min(queue.size(), options.max_group);
      for (std::size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      committing = true;
      last_group = group.size();
    }
    commit(group);
    group.clear();
    std::lock_guard lock(mu);
    committing = false;
  }
}

void EventStore::Impl::answer_loop() {
  std::vector<std::pair<EventStore::AppendDone, Result<AppendResult>>> batch;
  for (;;) {
    {
      std::unique_lock lock(answers_mu);
      answers_cv.wait(lock, [&] { return answers_stopping || !answers.empty(); });
      if (answers.empty()) return;  // stopping, and every answer given
      batch.swap(answers);
    }
    for (auto& [done, result] : batch) done(std::move(result));
    batch.clear();
  }
}

bool EventStore::Impl::commit(std::vector<std::shared_ptr<Pending>>& group) {
  // What the groups before this one wrote is on disk: the writer's memory of streams can go.
  if (versions.size() > options.stream_cache_entries) versions.clear();
  bool wrote = false;
  if (stream_subjects.size() > options.stream_cache_entries) stream_subjects.clear();
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, std::uint64_t> tentative_versions;
  std::unordered_map<std::string, std::uint64_t> tentative_ids;
  std::vector<std::optional<Result<AppendResult>>> results(group.size());
  std::vector<bool> writes(group.size(), false);
  std::uint64_t position = last_position.load(std::memory_order_relaxed);
  std::uint64_t running_max = max_occurred;
  const Micros now = std::max(now_micros(), last_recorded);
  std::vector<std::string> records;
  Envelope check;
  // recorded_at of every event the group writes, in position order: the time index holds one
  // entry per run of positions recorded at one time (one per group unless replicas came).
  std::vector<std::pair<Micros, std::uint64_t>> recorded_runs;  // (recorded_at, first position)
  Micros recorded_floor = last_recorded;

  for (std::size_t g = 0; g < group.size(); ++g) {
    Pending& p = *group[g];
    auto outcome = validate(p, tentative_versions, tentative_ids);
    if (!outcome.is_ok()) {
      results[g] = outcome.status();
      continue;
    }
    if (outcome->idempotent_retry) {
      results[g] = std::move(*outcome);
      continue;
    }
    // Every record is read back before any of this append enters the batch: the store
    // never writes what it could not read (the last line of defence behind check_storable).
    // An append's bodies were read back by its appender (prepare); a replica's records, or
    // an event sealed anew here, are encoded and read back here.
    std::uint64_t version = outcome->stream_version;
    std::uint64_t at = position;
    records.clear();
    Status unreadable;  // why this append is refused, if it is
    Micros replica_floor = recorded_floor;
    for (auto& e : p.events) {
      bool occurred_given = true;
      if (p.replica) {
        if (auto s = check_replica(e, at, version, replica_floor); !s) {
          unreadable = s;
          break;
        }
        replica_floor = from_timestamp(e.recorded_at());
        ++at, ++version;
      } else if (options.max_occurred_ahead_micros >= 0 && e.has_occurred_at() &&
          from_timestamp(e.occurred_at()) > now + options.max_occurred_ahead_micros) {
        unreadable = Status::invalid("event " + e.event_id() + " occurred at " + format_time(from_timestamp(e.occurred_at())) +
                                     ", after it is recorded (" + format_time(now) +
                                     "): nothing can be recorded before it happens; date it now or earlier");
        break;
      }
      if (!p.replica) {
        e.set_position(++at);
        e.set_version(++version);
        e.set_stream(p.stream);
        to_timestamp(now, e.mutable_recorded_at());
        occurred_given = e.has_occurred_at();
        if (!occurred_given) to_timestamp(now, e.mutable_occurred_at());
      }
      // Sealed by its appender under the subject of the stream's first event as it saw it:
      // the stream's history decides now (two first appends may have raced).
      if (const auto& assumed = p.assumed[static_cast<std::size_t>(at - position - 1)]; !assumed.empty()) {
        auto actual = stream_subject(p.stream, e.version());
        if (!actual) {
          unreadable = actual.status();
          break;
        }
        if (*actual != assumed) {
          if (unreadable = vault->reseal(e, *actual, p.key_puts); !unreadable) break;
          if (const auto i = static_cast<std::size_t>(at - position - 1); i < p.bodies.size()) p.bodies[i].clear();  // encoded below
        }
      }
      if (e.version() == 1) stream_subjects[p.stream] = e.has_sealed() ? e.sealed().subject() : std::string();
      records.emplace_back();
      if (const auto i = static_cast<std::size_t>(at - position - 1); i < p.bodies.size() && !p.bodies[i].empty()) {
        compose_record(e, p.bodies[i], p.splits[i], occurred_given, records.back());
      } else {  // a replica, or resealed above
        e.SerializeToString(&records.back());
        if (!check.ParseFromString(records.back()) || check.position() != at) {
          unreadable = Status::invalid("event " + e.event_id() + " does not read back after encoding; nothing was written");
          break;
        }
      }
    }
    if (unreadable.is_ok() && !p.forget_hash.empty()) unreadable = vault->erase(p.forget_hash, batch);
    if (!unreadable.is_ok()) {
      results[g] = unreadable;
      continue;
    }
    vault->write_keys(p.key_puts, batch);
    AppendResult r;
    for (std::size_t i = 0; i < p.events.size(); ++i) {
      const Envelope& e = p.events[i];
      ++position;
      const auto occ = static_cast<std::uint64_t>(std::max<Micros>(from_timestamp(e.occurred_at()), 0));
      if (occ > running_max || position == 1) {
        running_max = std::max(running_max, occ);
        batch.Put(occurred, time_key(occ, position), "");
      } else if (occ < running_max) {
        batch.Put(late, time_key(occ, position), "");
        batch.Put(late_positions, be64(position), be64(occ));
      }
      const Micros recorded = p.replica ? from_timestamp(e.recorded_at()) : now;
      if (recorded_runs.empty() || recorded_runs.back().first != recorded) recorded_runs.emplace_back(recorded, position);
      recorded_floor = std::max(recorded_floor, recorded);
      const std::string pos_key = be64(position);
      batch.Put(events, pos_key, records[i]);
      batch.Put(streams, named_key(p.stream, e.version()), pos_key);
      batch.Put(event_ids, e.event_id(), pos_key);
      tentative_ids[e.event_id()] = position;
      r.positions.push_back(position);
      r.versions.push_back(e.version());
      r.recorded_at.push_back(recorded);
    }
    r.stream_version = version;
    tentative_versions[p.stream] = version;
    results[g] = std::move(r);
    writes[g] = true;
  }

  if (batch.Count() > 0) {
    // One time-index entry per run of events recorded at one time: per group, as every event
    // of a group shares recorded_at, unless it holds replicas.
    for (std::size_t r = 0; r < recorded_runs.size(); ++r)
      batch.Put(time, time_key(static_cast<std::uint64_t>(recorded_runs[r].first), recorded_runs[r].second),
                be64(r + 1 < recorded_runs.size() ? recorded_runs[r + 1].second - 1 : position));
    rocksdb::WriteOptions wo;
    wo.sync = options.durability == Durability::sync;
    if (auto failed = write(wo, batch, "writing a group of appends"); !failed) {
      for (std::size_t g = 0; g < group.size(); ++g)
        if (writes[g]) results[g] = failed;
      vault->failed();
    } else {
      std::vector<Vault::KeyPut> written;
      for (std::size_t g = 0; g < group.size(); ++g)
        if (writes[g]) written.insert(written.end(), group[g]->key_puts.begin(), group[g]->key_puts.end());
      vault->committed(written);
      for (auto& [stream, v] : tentative_versions) versions[stream] = v;
      stats_groups.fetch_add(1, std::memory_order_relaxed);
      wrote = true;
      stats_appends.fetch_add(std::count(writes.begin(), writes.end(), true), std::memory_order_relaxed);
      stats_cached_streams.store(std::max(versions.size(), stream_subjects.size()), std::memory_order_relaxed);
      last_recorded = recorded_floor;  // now, unless the group held replicas only
      max_occurred = running_max;
      {
        std::lock_guard lock(committed_mu);
        last_position.store(position, std::memory_order_release);
      }
      committed_cv.notify_all();
    }
  }
  // Each answered, the writer lets go of it at once: its appender, woken by the answer, is
  // then the one that frees its events (EventStore::append holds a share). The functions of
  // append_then go to the answerer when other appends wait for the writer.
  bool busy;
  {
    std::lock_guard lock(mu);
    busy = !queue.empty();
  }
  std::vector<std::pair<EventStore::AppendDone, Result<AppendResult>>> handed;
  for (std::size_t g = 0; g < group.size(); ++g) {
    auto p = std::exchange(group[g], nullptr);
    if (busy && p->then) handed.emplace_back(std::move(p->then), std::move(*results[g]));
    else p->finish(std::move(*results[g]));
  }
  if (!handed.empty()) {
    {
      std::lock_guard lock(answers_mu);
      if (answers.empty()) answers = std::move(handed);
      else std::move(handed.begin(), handed.end(), std::back_inserter(answers));
    }
    answers_cv.notify_one();
  }
  return wrote;
}

void EventStore::Impl::submit(std::shared_ptr<Pending> p) {
  if (read_only) return p->finish(opened_to_read("the append"));  // no writer runs; nothing is sealed either
  if (auto s = prepare(*p); !s) return p->finish(s);
  {
    std::unique_lock lock(mu);
    if (stopping) return p->finish(Status::unavailable("the store is closing"));
    if (p->caller_waits && !committing && queue.empty() && last_group <= 1) {
      // Nothing to group it with, nobody committing, and the last group was one append
      // alone: the caller commits its append itself (as RocksDB's write-group leader does)
      // instead of waking the writer and being woken by it — two hand-offs of a lone
      // append. Whoever appends meanwhile is queued for the writer, woken when this commit
      // is done. After a larger group the writer gathers its appenders again instead.
      committing = true;
      lock.unlock();
      std::vector<std::shared_ptr<Pending>> group{std::move(p)};
      if (commit(group)) stats_own_groups.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      committing = false;
      if (queue.empty() && !stopping) return;  // the writer has nothing to do
    } else {
      queue.push_back(std::move(p));
      // Whoever is committing wakes the writer when done (the writer itself simply goes on);
      // otherwise the writer is woken when the group it gathers is complete.
      if (committing || queue.size() != wanted) return;
    }
  }
  cv.notify_one();
}

namespace {
std::shared_ptr<Pending> new_append(const std::string& stream, ExpectedVersion expected, std::vector<Envelope> events) {
  auto p = std::make_shared<Pending>();
  p->stream = stream;
  p->expected = expected;
  p->events = std::move(events);
  return p;
}
}  // namespace

std::future<Result<AppendResult>> EventStore::append_async(const std::string& stream, ExpectedVersion expected,
                                                           std::vector<Envelope> events) {
  auto p = new_append(stream, expected, std::move(events));
  auto fut = p->done.get_future();
  impl_->submit(std::move(p));
  return fut;
}

void EventStore::append_then(const std::string& stream, ExpectedVersion expected, std::vector<Envelope> events,
                             AppendDone done, Commit commit) {
  auto p = new_append(stream, expected, std::move(events));
  p->then = std::move(done);
  p->caller_waits = commit == Commit::here_when_idle;
  impl_->submit(std::move(p));
}

Result<AppendResult> EventStore::append(const std::string& stream, ExpectedVersion expected,
                                        std::vector<Envelope> events) {
  // The appender keeps its share of the append: the events are freed on this thread once the
  // writer lets go, not by the writer between two group commits.
  auto p = new_append(stream, expected, std::move(events));
  p->caller_waits = true;
  auto fut = p->done.get_future();
  impl_->submit(p);
  return fut.get();
}

Result<AppendResult> EventStore::replicate(std::vector<Envelope> events) {
  std::vector<std::pair<std::string, Micros>> forgotten;  // (subject hash, when)
  for (const auto& e : events) {  // before any run is queued: nothing of a refused copy is written
    if (e.event_id().empty()) return Status::invalid("a replicated event has no event id (position " + std::to_string(e.position()) + ")");
    if (e.has_subject_forgotten()) {
      auto hash = subject_hash_from_hex(e.subject_forgotten().subject_hash());
      if (!hash)
        return Status::invalid("event " + e.event_id() + " (position " + std::to_string(e.position()) +
                               ") forgets subject '" + e.subject_forgotten().subject_hash() + "', which is no subject hash (32 hex digits)");
      forgotten.emplace_back(std::move(*hash), from_timestamp(e.recorded_at()));
    }
  }
  // Forgotten here too, listed first: a crash before the erasure below re-applies it at open.
  if (!impl_->vault->locked())
    for (const auto& [hash, at] : forgotten)
      if (auto s = record_forgotten(impl_->vault->key_file(), hash, at, impl_->options.env); !s) return s;
  std::vector<std::future<Result<AppendResult>>> runs;
  for (std::size_t i = 0; i < events.size();) {
    std::size_t j = i + 1;
    while (j < events.size() && events[j].stream() == events[i].stream() && events[j].position() == events[j - 1].position() + 1)
      ++j;
    auto p = std::make_shared<Pending>();
    p->stream = events[i].stream();
    p->replica = true;
    p->expected = ExpectedVersion::any();  // check_replica checks positions, then versions
    p->events.assign(std::make_move_iterator(events.begin() + static_cast<std::ptrdiff_t>(i)),
                     std::make_move_iterator(events.begin() + static_cast<std::ptrdiff_t>(j)));
    runs.push_back(p->done.get_future());
    impl_->submit(std::move(p));
    i = j;
  }
  AppendResult all;
  Status first_error;  // success until a run fails; the runs after it fail too (wrong position)
  for (auto& f : runs) {
    auto r = f.get();
    if (!r.is_ok() && first_error.is_ok()) first_error = r.status();
    if (r.is_ok() && first_error.is_ok()) all.positions.insert(all.positions.end(), r->positions.begin(), r->positions.end());
  }
  if (!first_error.is_ok()) return first_error;
  if (!forgotten.empty())
    if (auto s = impl_->reapply_forgotten(); !s) return s;
  return all;
}

}  // namespace leanos::store
