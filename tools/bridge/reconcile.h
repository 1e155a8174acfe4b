// What of a LeanOS workspace the ledger holds already, judged by what a fact says, not by its
// id: a deal recorded with the CLI, through the server or by an earlier import, and a folder
// exported by `leanos export`, read back, record nothing again. Judged on the ledger's
// projection (projections/ledger.h) as it stands before the import.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "events/domain.h"
#include "leanos/v1/views.pb.h"
#include "projections/ledger.h"

namespace leanos::bridge {

struct Known {
  bool held = false;   // the ledger has this fact (the file's stage, action, outcome...)
  std::string differs; // held, but the ledger's values are not the file's: what differs
};

// What the ledger holds, as the import reads it before recording: the projection, and each
// campaign the workspace names as its thread view (stage 5 fact by fact).
struct Held {
  v1::LedgerView ledger;
  std::map<std::string, v1::CampaignView> campaigns;
  // Each deal the workspace names as its thread (the stages' payloads in force, personal
  // fields readable): what a stage file now says is compared field by field.
  std::map<std::string, v1::DealThreadView> deals;
};

// `fact` is a command the workspace reader made (tools/bridge/workspace.h). A fact dated
// `fallback` (a git commit's date: its file gives none) is not compared by date.
Known known_in_ledger(const Held& held, const Envelope& fact, Micros fallback = 0);

// What `import --accept-files` records for a fact a file rewrote: the fact as a correction of
// the deal's fact in force (Envelope.corrects_event_id), or a learning recorded again (the
// rules make it a correction); none for a fact no correction replaces (a campaign's, the
// canvas's), with why.
struct Correction {
  std::optional<Envelope> command;
  std::string why_not;
};
Correction correction_of(const Held& held, const Envelope& fact);

}  // namespace leanos::bridge
