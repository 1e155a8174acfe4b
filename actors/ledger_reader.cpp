#include "actors/ledger_reader.h"

#include <functional>
#include <limits>
#include <set>

#include "events/domain.h"

namespace leanos {

Result<LedgerRead> read_ledger(store::EventStore& store, const AsOf& as_of, const LedgerOptions& options) {
  std::uint64_t prefix = store.last_position();
  if (as_of.kind == AsOf::Kind::occurred) {
    auto p = store.occurred_prefix(as_of.time);
    if (!p) return p.status();
    prefix = *p;
  } else if (as_of.kind == AsOf::Kind::recorded) {
    auto p = store.recorded_prefix(as_of.time);
    if (!p) return p.status();
    prefix = *p;
  } else if (as_of.kind == AsOf::Kind::position) {
    prefix = std::min(prefix, as_of.position);
  }

  const char* name = options.need_deals ? projections::kLedgerSnapshotName : projections::kCoreSnapshotName;
  LedgerRead out{projections::empty_ledger(), 0, 0};
  std::size_t snapshot_bytes = 0;  // of the snapshot the fold started from
  if (options.use_snapshots && prefix > 0) {
    auto snap = store.snapshot_at_or_before(name, prefix);
    if (!snap) return snap.status();
    if (*snap && projections::parse((*snap)->second, &out.view)) {
      out.snapshot_position = (*snap)->first;
      snapshot_bytes = (*snap)->second.size();
    } else {
      out.view = projections::empty_ledger();
    }
  }
  const std::uint64_t base = out.snapshot_position;
  // Without deals in the snapshot, a deal the tail touches is rebuilt from its own events up
  // to the snapshot first, so that the fold's deltas start from its state then.
  auto ensure_deal = [&](const v1::Envelope& e) -> Status {
    if (options.need_deals || base == 0) return Status::success();
    const std::string id = deal_id_of(e);
    if (id.empty() || out.view.deals().count(id)) return Status::success();
    auto events = store.read_stream(deal_stream(id), 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
    if (!events) return events.status();
    std::vector<v1::Envelope> before;
    for (auto& x : *events)
      if (x.position() <= base) before.push_back(std::move(x));
    if (!before.empty()) (*out.view.mutable_deals())[id] = projections::rebuild_deal(before);
    return Status::success();
  };
  Status error;
  // Writing core snapshots, keep the ids of the deals in play as the fold goes.
  const bool core_snapshots = options.write_snapshots && options.core_snapshot_every;
  std::set<std::string> in_play;
  if (core_snapshots) in_play = projections::deals_in_play(out.view);
  // Full snapshots hold every deal ever, so they grow with history: the next one waits until
  // the fold has gone one event per kFullBytesPerEvent bytes of the last. What they write
  // in total then stays near the log's own size (at 10 M events one is 318 MB; every
  // 100 000 events that would be 16 GB), and a query's tail stays proportionate to the state.
  constexpr std::size_t kFullBytesPerEvent = 100;
  std::uint64_t last_full = options.need_deals ? base : 0;
  std::size_t last_full_bytes = options.need_deals ? snapshot_bytes : 0;
  // A long tail (a replay) decodes on a second thread while this one folds; a short one is
  // not worth the thread.
  const bool long_tail = prefix > base + 8192;
  auto s = std::invoke(long_tail ? &store::EventStore::scan_pipelined : &store::EventStore::scan, store, base + 1, prefix, [&](const v1::Envelope& e) {
    if (error = ensure_deal(e); !error) return false;
    projections::apply(out.view, e);
    ++out.folded;
    if (!options.write_snapshots) return true;
    const auto pos = e.position();
    if (core_snapshots)
      if (const std::string id = deal_id_of(e); !id.empty()) {
        auto d = out.view.deals().find(id);
        if (d != out.view.deals().end() && projections::in_play(d->second)) in_play.insert(id);
        else in_play.erase(id);
      }
    if (core_snapshots && pos % options.core_snapshot_every == 0)
      if (error = store.put_snapshot(projections::kCoreSnapshotName, pos, projections::serialize_core(out.view, in_play)); !error)
        return false;
    if (options.need_deals && options.snapshot_every && pos % options.snapshot_every == 0 &&
        pos - last_full >= last_full_bytes / kFullBytesPerEvent) {
      const std::string bytes = projections::serialize(out.view);
      if (error = store.put_snapshot(projections::kLedgerSnapshotName, pos, bytes); !error) return false;
      last_full = pos;
      last_full_bytes = bytes.size();
    }
    return true;
  });
  if (!s) return s;
  if (!error) return error;
  if (as_of.kind == AsOf::Kind::occurred) {
    auto late = store.late_positions(as_of.time, prefix);
    if (!late) return late.status();
    for (auto pos : *late) {
      auto e = store.read_event(pos);
      if (!e) return e.status();
      if (auto st = ensure_deal(*e); !st) return st;
      projections::apply(out.view, *e);
      ++out.folded;
    }
  }
  return out;
}

}  // namespace leanos
