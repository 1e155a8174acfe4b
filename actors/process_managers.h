// Process managers: what a deal's outcome and learning do to the rest of the workspace.
//
//   canvas    a learning -> the assumption's new confidence and status (VALIDATED,
//             CHALLENGED, INVALIDATED = 0 %); a won deal -> the canvas metrics
//   goal      a won goal-linked deal -> subgoal progress, the goal metric, "target met"
//   marketing a validated hypothesis -> a case-study content opportunity (priority = the
//             deal's implication priority); >= 3 won deals of one segment that validated the
//             same assumption -> a pattern opportunity
//
// The values themselves are computed by the folds (projections/, with the rules of
// events/rules.h); the managers record them as derived events, at the cause's business date.
// Content opportunities are flags raised once: they are not restated when a backdated fact
// would have raised a pattern earlier.
//
// derive() is pure: the same ledger state and event give the same derived events, and their
// ids are derived from the cause's id and the rule, so running the managers again over the
// same history appends nothing new. Each derived event carries causation_id = the cause.
#pragma once

#include <functional>

#include "events/domain.h"
#include "events/rules.h"
#include "projections/ledger.h"
#include "store/event_store.h"

namespace leanos {

struct Derived {
  std::string stream;
  Envelope event;
};

// `after` is the ledger with `cause` already folded in.
std::vector<Derived> derive(const v1::LedgerView& after, const Envelope& cause);

// Stores the derived events of one stream (all of them, or fails) before it returns: the
// store directly, or the stream's owning actor.
using AppendDerived = std::function<Status(const std::string& stream, std::vector<Derived> derived)>;

// The process managers' loop, whoever runs it: folds the log after view.position() into
// `view` in position order and, for each event, hands what it causes and the store does
// not hold yet to `append`, grouped by stream. A derived event lands later in the log and
// is folded when the walk reaches it; a derivation reads only the log before its cause, so
// the outcome does not depend on who appends when. Returns the number handed over.
//
// A backdated fact (one that occurred before something recorded earlier) is derived at its
// own business date, from the timeline as it stood then; then every later cause is derived
// again with and without it, and what changed is restated (DerivationRestated), withdrawn,
// or added. The decisions read only the facts recorded up to the late one, so a replay
// decides the same and, the ids being deterministic, appends nothing.
Result<std::size_t> follow_log(store::EventStore& store, v1::LedgerView& view, const AppendDerived& append);

// What a backdated fact causes: its own derived events and the restatements of later ones.
// `view` is left as the business-time fold of the log up to it.
Result<std::vector<Derived>> derive_late(store::EventStore& store, const Envelope& late, v1::LedgerView& view);

// Appends straight to the store, bypassing the actors (replay and tests).
AppendDerived append_to(store::EventStore& store);

// Replays the whole log through the process managers, appending anything missing. On a
// log they have already seen it appends nothing.
Result<std::size_t> catch_up_process_managers(store::EventStore& store);

}  // namespace leanos
