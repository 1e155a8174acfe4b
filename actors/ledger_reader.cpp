#include "actors/ledger_reader.h"

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

  LedgerRead out{projections::empty_ledger(), 0, 0};
  if (options.use_snapshots && prefix > 0) {
    auto snap = store.snapshot_at_or_before(projections::kLedgerSnapshotName, prefix);
    if (!snap) return snap.status();
    if (*snap && projections::parse((*snap)->second, &out.view)) {
      out.snapshot_position = (*snap)->first;
    } else {
      out.view = projections::empty_ledger();
    }
  }
  Status write_error;
  auto s = store.scan(out.snapshot_position + 1, prefix, [&](const v1::Envelope& e) {
    projections::apply(out.view, e);
    ++out.folded;
    if (options.write_snapshots && options.snapshot_every && e.position() % options.snapshot_every == 0) {
      write_error = store.put_snapshot(projections::kLedgerSnapshotName, e.position(), projections::serialize(out.view));
      if (!write_error) return false;
    }
    return true;
  });
  if (!s) return s;
  if (!write_error) return write_error;
  if (as_of.kind == AsOf::Kind::occurred) {
    auto late = store.late_positions(as_of.time, prefix);
    if (!late) return late.status();
    for (auto pos : *late) {
      auto e = store.read_event(pos);
      if (!e) return e.status();
      projections::apply(out.view, *e);
      ++out.folded;
    }
  }
  return out;
}

}  // namespace leanos
