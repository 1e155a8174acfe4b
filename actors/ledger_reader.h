// Reading the ledger projection at any point in time: snapshot + tail.
//
//   latest       every event
//   occurred T   every event that occurred (business time) on or before T: --as-of
//   recorded T   every event the store had recorded by T: --known-at (what the system knew)
//   position N   the log prefix up to N: --at-position
//
// The nearest snapshot at or before the prefix is the start; the tail is folded on top. For
// business time the prefix is the longest one that occurred entirely by T, and only the
// backdated events after it are read (store::occurred_prefix / late_positions).
#pragma once

#include "projections/ledger.h"
#include "store/event_store.h"

namespace leanos {

struct AsOf {
  enum class Kind { latest, occurred, recorded, position };
  Kind kind = Kind::latest;
  Micros time = 0;
  std::uint64_t position = 0;
};

struct LedgerOptions {
  // A full snapshot (every deal) is written at multiples of this position while folding,
  // spaced further apart as the state grows (one event folded per 100 bytes of the last).
  std::uint64_t snapshot_every = 100'000;
  // A core snapshot (no deals: canvas, goals, aggregates, marketing) at every multiple of this.
  std::uint64_t core_snapshot_every = 500;
  bool use_snapshots = true;
  bool write_snapshots = true;
  // false: the caller reads only the core (canvas, goals, metrics, marketing). The fold then
  // starts from a core snapshot and rebuilds a deal from its stream only when the tail
  // touches it, so view.deals() holds just those deals.
  bool need_deals = true;
};

struct LedgerRead {
  v1::LedgerView view;
  std::uint64_t snapshot_position = 0;  // where folding started
  std::uint64_t folded = 0;             // events folded on top of it
};

Result<LedgerRead> read_ledger(store::EventStore& store, const AsOf& as_of, const LedgerOptions& options = {});

}  // namespace leanos
