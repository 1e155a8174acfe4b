// A simulated power cut of the store under load (store/power_cut.h): `leanos bench crash`'s
// soak and the power tests. Concurrent single and grouped appends (some naming a person, so
// the key vault writes in the same group), memtable flushes and compactions; at a random
// moment after 1-200 acknowledged appends the power goes, the disk keeps what was synced (half
// the cuts a torn part of what followed), and the store is opened again from what is left and
// checked: every acknowledged event there as appended, every append whole or absent, positions
// dense, the store opening and verify clean. Meanwhile people are forgotten (`forget`: its
// list beside the master key, the key's deletion and the SubjectForgotten event): every
// acknowledged erasure must hold after the cut — the person's events acknowledged before it
// read "[erased]", the erasure listed and its event in the log. `seed` decides everything the
// threads do not.
#pragma once

#include <cstdint>
#include <string>

#include "events/result.h"
#include "store/event_store.h"

namespace leanos::store {

struct PowerCut {
  std::size_t appends = 0, events = 0;   // acknowledged
  std::size_t lost = 0, half_groups = 0;  // acknowledged events missing or changed; appends in part
  std::size_t forgets = 0, unerased = 0;  // acknowledged erasures; those not in force after the cut
  bool unreadable = false;               // did not open, or verify found a problem
  std::uint64_t dropped_bytes = 0;       // what the disk forgot
  std::string why;                       // the first thing wrong
};

// Makes a store in `dir` (removed first), cuts it, opens it again and counts.
Result<PowerCut> power_cut_once(const std::string& dir, std::uint64_t seed, Durability durability);

}  // namespace leanos::store
