// Reading the ledger projection at any point in time, on both axes: snapshot + tail.
//
//   occurred T   the events that occurred (business time) on or before T: --as-of
//   recorded R   as the store knew it at R (system time): --known-at
//   position N   the log prefix up to N: --at-position
//
// Any combination: `occurred` with `recorded` is the business timeline up to T as the store
// knew it at R. Whatever the recording order, the events are folded in business-time order
// (occurred_at, then position): a backdated event takes its place in the timeline and
// everything after it follows from there.
//
// The nearest usable snapshot is the start; the tail is folded on top. A snapshot at
// position s holds the business-time fold of the log up to s; it is usable while no event
// recorded after s (and folded) occurred before the snapshot's latest business time.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "projections/ledger.h"
#include "store/event_store.h"

namespace leanos {

// A snapshot the disk damaged (its checksum fails): derived data, so the fold goes on without
// it, from the log, and says so (a warning); `leanos verify` names the file. False for any
// other error, which is the caller's.
bool damaged_snapshot(const Status& s);

struct AsOf {
  std::optional<Micros> occurred = std::nullopt;         // business time: fold what occurred by then
  std::optional<Micros> recorded = std::nullopt;         // system time: as the store knew it then
  std::optional<std::uint64_t> position = std::nullopt;  // the log prefix up to this position
};

// A what-if branch of the log (actors/whatif.h): events the fold leaves out, events it folds
// in besides the log's, and the business time from which anything differs.
struct Branch {
  std::function<bool(const v1::Envelope&)> keep;  // asked once per event, in business-time order
  // Sorted by (occurred_at, position); positions after the log's last.
  std::vector<v1::Envelope> extra;
  // The earliest business time a left-out or added event has: the fold starts from a
  // snapshot of what occurred before it.
  Micros changes_from = 0;
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
  // Fold this branch instead of the log as it is (no snapshot is then written).
  const Branch* branch = nullptr;
};

struct LedgerRead {
  v1::LedgerView view;
  std::uint64_t snapshot_position = 0;  // where folding started
  std::uint64_t folded = 0;             // events folded on top of it
  bool time_snapshot = false;           // the snapshot was one keyed by business time
};

Result<LedgerRead> read_ledger(store::EventStore& store, const AsOf& as_of, const LedgerOptions& options = {});

// The last position an AsOf covers (recorded and position bounds; business time aside).
Result<std::uint64_t> last_position_of(const store::EventStore& store, const AsOf& as_of);

// Calls `fn` for every event at positions in (after, last] that occurred in
// (occurred_after, occurred_until], in business-time order (occurred_at, then position),
// until it returns false. The events in order of both kinds are read in one scan; the
// backdated ones are merged in from the store's late index.
Status scan_business(const store::EventStore& store, std::uint64_t after, std::uint64_t last, Micros occurred_after,
                     Micros occurred_until, const std::function<bool(const v1::Envelope&)>& fn);

}  // namespace leanos
