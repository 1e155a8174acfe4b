// Process managers: what a deal's outcome and learning do to the rest of the workspace.
//
//   canvas    a learning -> the assumption's new confidence and status (VALIDATED,
//             CHALLENGED, INVALIDATED = 0 %); a won deal -> the canvas metrics
//   goal      a won goal-linked deal -> subgoal progress, the goal metric, "target met"
//   marketing a validated hypothesis -> a case-study content opportunity (priority = the
//             deal's implication priority); >= 3 won deals of one segment that validated the
//             same assumption -> a pattern opportunity
//
// derive() is pure: the same ledger state and event give the same derived events, and their
// ids are derived from the cause's id and the rule, so running the managers again over the
// same history appends nothing new. Each derived event carries causation_id = the cause.
#pragma once

#include "events/domain.h"
#include "projections/ledger.h"
#include "store/event_store.h"

namespace leanos {

struct Derived {
  std::string stream;
  Envelope event;
};

// `after` is the ledger with `cause` already folded in.
std::vector<Derived> derive(const v1::LedgerView& after, const Envelope& cause);

// Folds `committed` (events just stored, in order) into `view` and appends what they cause,
// folding the derived events too. Appends are idempotent (deterministic ids).
// Returns the number of derived events newly written.
Result<std::size_t> run_process_managers(store::EventStore& store, v1::LedgerView& view,
                                         const std::vector<Envelope>& committed);

// Replays the whole log through the process managers, appending anything missing. On a
// log they have already seen it appends nothing.
Result<std::size_t> catch_up_process_managers(store::EventStore& store);

}  // namespace leanos
