// The query layer under the CLI and the server: a QueryRequest answered with its typed view
// (proto/leanos/v1/views.proto), read from the store with time travel on both axes. The CLI
// prints the view; the Query RPC returns it. "Now" for the rules that measure time is the
// --as-of / --known-at instant, else the caller's clock.
#pragma once

#include "actors/ledger_reader.h"
#include "leanos/v1/query.pb.h"

namespace leanos {

// The request's time travel: invalid_argument naming the field (as_of, known_at) when a date
// does not parse.
Result<AsOf> as_of_of(const v1::QueryRequest& query);
// The instant the time-measuring rules use: as_of, else known_at, else `clock`.
Micros now_of(const AsOf& as_of, Micros clock);

// The typed answer; not_found for a goal that does not exist (or not yet at that time), a
// deal, campaign or assumption that does not.
Result<v1::QueryReply> answer_query(store::EventStore& store, const v1::QueryRequest& query, Micros clock);
// The same view on a what-if branch of the log (actors/whatif.h): the views the ledger's fold
// gives (canvas, goal, metrics, opportunities, today, pipeline, deals, segments);
// invalid_argument for another.
Result<v1::QueryReply> answer_on_branch(store::EventStore& store, const v1::QueryRequest& query, Micros clock, const Branch& branch);

// The views that read the store beyond the ledger's fold.
Result<v1::AuditView> audit_view(store::EventStore& store, const std::string& deal_id);
Result<v1::AssumptionHistoryView> assumption_history_view(store::EventStore& store, const std::string& assumption_id);

// "; did you mean 'acme-corp'?" for a deal id that names no deal but is close to ones that
// do (at most three), or "".
std::string closest_deals(const store::EventStore& store, const std::string& id);

}  // namespace leanos
