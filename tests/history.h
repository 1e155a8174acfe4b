// A generator of random valid LeanOS histories, through the real rules and process managers.
#pragma once

#include <functional>
#include <random>

#include "actors/commands.h"
#include "actors/process_managers.h"

namespace leanos::test {

struct HistoryOptions {
  int commands = 1500;
  int goals = 2;
  int assumptions = 3;
  double backdate_probability = 0.1;  // an event dated before events already recorded
  // A deal that has its learning records one again: the same (nothing new) or a correction,
  // dated at the learning it replaces, however long ago (so position snapshots cannot be
  // written over that stretch: a test of snapshot coverage leaves it at 0).
  double relearn_probability = 0;
  double strategy_probability = 0.02;  // a segment's ICP or narrative instead of a deal step
  // About a day of business time passes per command: 2 500 commands end in 2021, before the
  // store's clock (nothing may be recorded before it occurs; generate_history fails, saying
  // so, if the history would run past today).
  Micros start = 1'420'070'400'000'000;  // 2015-01-01
};

// Drives a workspace with random commands; rejected ones are simply skipped. `on_commit` is
// called with the incremental ledger after each accepted command and its derived events.
void generate_history(store::EventStore& store, std::mt19937_64& rng, const HistoryOptions& options,
                      const std::function<void(const v1::LedgerView&)>& on_commit);

}  // namespace leanos::test
