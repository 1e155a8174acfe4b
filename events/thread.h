// The state of a deal or campaign thread: a pure fold of its own stream.
//
// The rules (events/rules.h) decide against it; projections fold the same events.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/domain.h"

namespace leanos {

using v1::Stage;
// The stage's word: "1-input" ... "6-learning", "none".
const std::string& stage_name(Stage s);

// The one computation of a thread's stage: the latest of its stages that has happened.
struct StagesReached {
  bool input = false, hypothesis = false, implication = false, decision = false, actions = false, learning = false;
};
Stage stage_of(const StagesReached& reached);

// The status an action has after `payload` (ActionPlanned ... ActionUnblocked); unspecified
// for any other payload. The one fold of an action's status, for the rules and the views.
v1::ActionStatus action_status_after(Envelope::PayloadCase payload);

struct ActionState {
  v1::ActionStatus status = v1::ACTION_STATUS_UNSPECIFIED;
  Micros planned_at = 0, started_at = 0, completed_at = 0, changed_at = 0;
  int day_from = 0, day_to = 0;
  bool human_required = false;
  std::string result;
  std::string notes;
  int starts = 0;  // a demo may be held again after NEEDS_REVISION
  std::string completed_event_id;  // the completion in force (a correction replaces it)
};

struct DealState {
  std::string deal_id;
  std::uint64_t version = 0;  // events folded
  Micros last_event_at = 0;   // occurred_at of the newest event
  Micros stage_entered_at = 0;

  std::optional<v1::LeadCaptured> lead;
  Micros lead_at = 0;
  std::optional<v1::HypothesisStated> hypothesis;
  Micros hypothesis_at = 0;
  std::optional<v1::ImplicationAssessed> implication;
  Micros implication_at = 0;
  // The events in force of the stages a correction may replace (the decision's and the
  // outcome's below, an action's completion in ActionState).
  std::string lead_event_id, hypothesis_event_id, implication_event_id;
  std::optional<v1::DecisionMade> decision;  // the one in force (later ones supersede)
  Micros decision_at = 0;
  std::string decision_event_id;
  std::string decided_by;
  int decisions = 0;
  bool approved = false;
  std::string approved_by;
  Micros approved_at = 0;
  std::optional<v1::QualificationScored> score;
  std::map<std::string, ActionState> actions;  // by action type
  std::string last_completed;  // the action completed last (its result: actions[last_completed].result)
  Micros first_action_at = 0;
  std::optional<v1::DealClosed> outcome;
  Micros outcome_at = 0;
  std::string outcome_event_id;
  // The learnings in force, one per assumption, in the order first recorded: a correction
  // replaces the learning it corrects in place. Parallel: each one's event id and date.
  std::vector<v1::LearningRecorded> learnings;
  std::vector<std::string> learning_event_ids;
  std::vector<Micros> learning_dates;
  int corrections = 0;  // facts corrected: learnings recorded again, corrections (Envelope.corrects_event_id)
  Micros learning_at = 0;
  // Where the facts in force came from (an import's metadata), by event type and subject:
  // a later fact of the same kind replaces the earlier one's source.
  std::map<std::string, v1::FactSource> sources;
  // The index in `learnings` of the learning about this assumption, or -1.
  int learning_about(const std::string& assumption_id) const;

  bool exists() const { return lead.has_value(); }
  Stage stage() const;
  // QUALIFY in force, and approved when approval was required.
  bool actions_allowed() const;
  bool rejected() const { return decision && decision->verdict() == v1::REJECT; }
  // won or lost: only learning may follow. A stall can still be won or lost.
  bool terminal() const { return outcome && outcome->outcome() != v1::STALLED; }
  bool blocked() const;
};

// Folds one event of the deal's stream (other payloads are ignored).
void apply(DealState& state, const Envelope& e);

struct CampaignState {
  std::string campaign_id;
  std::uint64_t version = 0;
  Micros last_event_at = 0;
  std::optional<v1::CampaignOpened> opened;
  Micros opened_at = 0;
  std::optional<v1::CampaignHypothesisStated> hypothesis;
  Micros hypothesis_at = 0;
  std::optional<v1::CampaignImplicationAssessed> implication;
  Micros implication_at = 0;
  std::optional<v1::CampaignDecisionMade> decision;
  Micros decision_at = 0;
  std::map<std::string, v1::ProspectAdded> prospects;  // by company slug
  std::map<std::string, v1::Contact> contacts;         // by email
  std::optional<v1::OutreachSequenceDefined> sequence;
  Micros sequence_at = 0;
  int sent = 0;
  std::map<std::string, std::string> responses;        // email -> kind
  std::map<std::string, std::string> conversions;      // company -> deal id
  std::optional<v1::CampaignResultsRecorded> results;
  Micros results_at = 0;
  // Stage 5 fact by fact, in the order folded, each with its business date: what a
  // campaign's folder holds (prospect, contact, outreach and response lists).
  std::vector<Envelope> entries;

  bool exists() const { return opened.has_value(); }
  Stage stage() const;
  bool launched() const { return decision && decision->verdict() == v1::LAUNCH; }
};

void apply(CampaignState& state, const Envelope& e);

}  // namespace leanos
