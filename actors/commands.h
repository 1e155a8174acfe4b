// Command handling: fold the thread, gather the facts, apply the rules, append.
//
// This is the one path by which a domain command becomes events. The thread's stream is
// appended with its exact expected version, so two writers racing on one deal cannot both
// win: the loser gets a conflict and nothing is written.
#pragma once

#include <string>

#include "events/rules.h"
#include "store/event_store.h"

namespace leanos {

struct Handled {
  std::string stream;
  Events events;  // as stored: positions and versions filled
  bool idempotent_retry = false;
};

class CommandHandler {
 public:
  explicit CommandHandler(store::EventStore& store) : store_(store) {}

  // `command` carries the payload, event_id, occurred_at and actor. Dispatches on the payload.
  Result<Handled> handle(Envelope command);
  // Several commands of one campaign (a CSV import's rows), each decided against the
  // campaign as it stands, then appended together: all of them, or none.
  Result<Handled> handle_batch(std::vector<Envelope> commands);

  // Folds of single streams, for `show` commands and for the handler itself.
  Result<DealState> deal(const std::string& deal_id) const;
  Result<CampaignState> campaign(const std::string& campaign_id) const;
  // The facts a command may refer to: assumptions, goals, campaigns, the approval threshold.
  Result<Facts> facts(const Envelope& command) const;

 private:
  Result<Handled> append(const std::string& stream, store::ExpectedVersion expected, Result<Events> decided);
  store::EventStore& store_;
};

// The stream a command's events belong to ("" for a payload that is no command).
std::string stream_of_command(const Envelope& command);

}  // namespace leanos
