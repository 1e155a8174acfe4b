// Command handling: fold the thread, gather the facts, apply the rules, append.
//
// This is the one path by which a domain command becomes events. The thread's stream is
// appended with its exact expected version, so two writers racing on one deal cannot both
// win: the loser gets a conflict and nothing is written.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <set>
#include <string>

#include "events/rules.h"
#include "store/event_store.h"

namespace leanos {

struct Handled {
  std::string stream;
  Events events;  // as stored: streams and positions filled, in position order (a response that
                  // opens a deal: the deal's lead, then the response and the conversion)
  bool idempotent_retry = false;
};

// What a command is checked against beyond its own stream: the canvas's assumptions, the
// approval threshold, a named goal's subgoals, whether a named campaign exists. The canvas
// grows with history (every learning changes it), so the cache reads only what the canvas,
// workspace and goal streams gained since it last looked, never the whole canvas per
// command. Thread-safe: a runtime's stream actors share one; the store is read outside the
// cache's lock.
class FactsCache {
 public:
  Result<Facts> facts(const store::EventStore& store, const Envelope& command);
  // The documents stream folded up to its end: each path's version in force (read on from
  // where the last call ended).
  Result<DocumentsState> documents(const store::EventStore& store);

 private:
  struct Goal {
    std::uint64_t version = 0;
    bool defined = false;
    std::set<std::string> subgoals;
  };
  std::mutex mu_;
  std::uint64_t canvas_version_ = 0, workspace_version_ = 0;
  std::set<std::string> assumptions_;
  double approval_threshold_ = Facts{}.approval_threshold;
  std::map<std::string, Goal> goals_;
  DocumentsState documents_;
};

class CommandHandler {
 public:
  explicit CommandHandler(store::EventStore& store, std::shared_ptr<FactsCache> facts = std::make_shared<FactsCache>())
      : store_(store), facts_(std::move(facts)) {}

  // `command` carries the payload, event_id, occurred_at and actor. Dispatches on the payload.
  Result<Handled> handle(Envelope command);
  // Several commands of one stream — a campaign (a CSV import's rows), a deal thread, a goal
  // or the canvas (a LeanOS file's facts) — each decided against the stream as the ones before it
  // leave it, then appended together: all of them, or none. A refusal carries the parameter
  // "batch_index" (0-based) naming the command that was refused.
  Result<Handled> handle_batch(std::vector<Envelope> commands);

  // Folds of single streams, for `show` commands and for the handler itself.
  Result<DealState> deal(const std::string& deal_id) const;
  Result<CampaignState> campaign(const std::string& campaign_id) const;
  // The facts a command may refer to: assumptions, goals, campaigns, the approval threshold.
  Result<Facts> facts(const Envelope& command) const;

 private:
  Result<Handled> append(const std::string& stream, store::ExpectedVersion expected, Result<Events> decided);
  Result<Handled> already_recorded(const DealState& state, const std::string& stream, const Envelope& command) const;
  Result<Handled> response_opening_deal(const CampaignState& campaign, const Envelope& response, const Facts& facts);
  // An interested response that opens a deal, `decided` as decide_campaign gave it: the deal's
  // lead decided against its own stream (none when a retry finds it recorded), the conversion
  // added to `decided`, and `campaign` advanced past both. Nothing is appended.
  struct DealOpening {
    std::string stream;
    std::uint64_t version = 0;
    Events lead;
    std::optional<std::uint64_t> recorded;  // the lead's position, recorded already
  };
  Result<DealOpening> open_deal(CampaignState& campaign, Events& decided, const Facts& facts);
  store::EventStore& store_;
  std::shared_ptr<FactsCache> facts_;
};

// The stream a command's events belong to ("" for a payload that is no command).
std::string stream_of_command(const Envelope& command);

// decide_document, told by `store` whether it holds the files layer's content the command's
// text names (content_sha256).
Result<Events> decide_document_in(const store::EventStore& store, const DocumentsState& documents, const Envelope& command);

}  // namespace leanos
