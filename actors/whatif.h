// What if: a branch of the ledger. The log with some of what happened left out (a deal, a
// campaign, an event, a type of event from a date; with every event each caused) and some of
// what might happen added (commands dated in the past or the future, decided by the same rules
// on the branch), folded by the same folds into the same views, beside reality, with what
// differs. Nothing of a branch is recorded: the store is read, never written.
#pragma once

#include "actors/commands.h"
#include "actors/ledger_reader.h"
#include "leanos/v1/whatif.pb.h"

namespace leanos {

// Answers `request` over `store`; `clock` is "now" for both sides (and the recording time of
// the branch's own events). A `with` command the rules refuse fails the call with its rule,
// parameter `with_index` naming it.
Result<v1::WhatIfReply> what_if(store::EventStore& store, CommandHandler& handler, const v1::WhatIfRequest& request, Micros clock);

// `request` with the saved scenario's changes before its own, and its as_of and known_at where
// the request's query gives none (`scenario` cleared).
v1::WhatIfRequest with_saved(const v1::WhatIfRequest& request, const v1::SavedScenario& saved);

// The command that saves `request` (its changes, as_of and known_at) as `request.save()`, dated `at`.
Envelope save_command(const v1::WhatIfRequest& request, Micros at);

// The latest version of the scenario saved as `name`, as the log holds it now; not_found
// naming the saved ones.
Result<v1::SavedScenario> saved_scenario(store::EventStore& store, const std::string& name);

// The fields of two views that differ, by path (`canvas.assumptions[A4].confidence`): a
// repeated message is matched by its id field when it has one (id, deal_id, goal_id, …), else
// by its index.
std::vector<v1::Difference> differences(const google::protobuf::Message& reality, const google::protobuf::Message& branch);

}  // namespace leanos
