#include "events/thread.h"

#include "events/text.h"

#include <algorithm>

namespace leanos {

namespace {

// Who an e-mail names, as campaign state keys its contacts and responses. A forgotten
// contact is no one: each stays one entry (so counts hold), keyed by the event that
// recorded it, which no command can name (it has no '@').
std::string person_key(const std::string& email, const Envelope& e) {
  return withheld(email) ? email + "#" + e.event_id() : lower(email);
}

}  // namespace

const std::string& stage_name(Stage s) { return word(s); }

Stage stage_of(const StagesReached& r) {
  if (r.learning) return v1::STAGE_LEARNING;
  if (r.actions) return v1::STAGE_ACTIONS;
  if (r.decision) return v1::STAGE_DECISION;
  if (r.implication) return v1::STAGE_IMPLICATION;
  if (r.hypothesis) return v1::STAGE_HYPOTHESIS;
  if (r.input) return v1::STAGE_INPUT;
  return v1::STAGE_NONE;
}

v1::ActionStatus action_status_after(Envelope::PayloadCase payload) {
  switch (payload) {
    case Envelope::kActionPlanned: return v1::ACTION_PLANNED;
    case Envelope::kActionStarted:
    case Envelope::kActionUnblocked: return v1::ACTION_IN_PROGRESS;
    case Envelope::kActionCompleted: return v1::ACTION_COMPLETED;
    case Envelope::kActionBlocked: return v1::ACTION_BLOCKED;
    default: return v1::ACTION_STATUS_UNSPECIFIED;
  }
}

Stage DealState::stage() const {
  return stage_of({.input = lead.has_value(),
                   .hypothesis = hypothesis.has_value(),
                   .implication = implication.has_value(),
                   .decision = decision.has_value(),
                   .actions = !actions.empty(),
                   .learning = outcome || !learnings.empty()});
}

bool DealState::actions_allowed() const {
  return decision && decision->verdict() == v1::QUALIFY && (!decision->approval_required() || approved);
}

int DealState::learning_about(const std::string& assumption_id) const {
  for (std::size_t i = 0; i < learnings.size(); ++i)
    if (learnings[i].assumption_id() == assumption_id) return static_cast<int>(i);
  return -1;
}

bool DealState::blocked() const {
  for (const auto& [type, a] : actions)
    if (a.status == v1::ACTION_BLOCKED) return true;
  return false;
}

// The file, line and version an imported fact was read from, when its metadata says.
void note_source(DealState& s, const Envelope& e) {
  const auto& m = e.metadata();
  const auto file = m.find("source_file");
  v1::FactSource src;
  src.set_event_type(e.type());
  switch (e.payload_case()) {
    case Envelope::kActionPlanned: src.set_subject(e.action_planned().action()); break;
    case Envelope::kActionStarted: src.set_subject(e.action_started().action()); break;
    case Envelope::kActionCompleted: src.set_subject(e.action_completed().action()); break;
    case Envelope::kActionBlocked: src.set_subject(e.action_blocked().action()); break;
    case Envelope::kLearningRecorded: src.set_subject(e.learning_recorded().assumption_id()); break;
    default: break;
  }
  const std::string key = src.event_type() + " " + src.subject();
  if (file == m.end()) {  // recorded otherwise (the CLI, a client): the fact in force has no file
    s.sources.erase(key);
    return;
  }
  src.set_file(file->second);
  if (auto line = m.find("source_line"); line != m.end()) {
    int n = 0;
    for (char c : line->second) n = (c >= '0' && c <= '9' && n < 100'000'000) ? n * 10 + (c - '0') : n;
    src.set_line(n);
  }
  if (auto sha = m.find("source_sha256"); sha != m.end()) src.set_sha256(sha->second);
  if (auto commit = m.find("git_commit"); commit != m.end()) src.set_git_commit(commit->second);
  *src.mutable_occurred_at() = e.occurred_at();
  s.sources[key] = std::move(src);
}

void apply(DealState& s, const Envelope& e) {
  const Micros at = from_timestamp(e.occurred_at());
  const Stage before = s.stage();
  // A correction replaces the fact in force where it stands (its date is that fact's): the
  // values change, what followed the fact stays (approval, counts, dates, stage).
  const bool correction = !e.corrects_event_id().empty();
  ++s.version;
  s.last_event_at = std::max(s.last_event_at, at);
  note_source(s, e);
  if (correction) ++s.corrections;
  switch (e.payload_case()) {
    case Envelope::kLeadCaptured:
      s.lead = e.lead_captured();
      s.deal_id = e.lead_captured().deal_id();
      s.lead_at = at;
      s.lead_event_id = e.event_id();
      break;
    case Envelope::kHypothesisStated:
      s.hypothesis = e.hypothesis_stated();
      s.hypothesis_at = at;
      s.hypothesis_event_id = e.event_id();
      break;
    case Envelope::kImplicationAssessed:
      s.implication = e.implication_assessed();
      s.implication_at = at;
      s.implication_event_id = e.event_id();
      break;
    case Envelope::kDecisionMade:
      s.decision = e.decision_made();
      s.decision_at = at;
      s.decision_event_id = e.event_id();
      if (correction) break;  // who decided, the approval and the count stay
      s.decided_by = e.actor();
      s.approved = false;
      s.approved_by.clear();
      ++s.decisions;
      break;
    case Envelope::kDecisionApproved:
      s.approved = true;
      s.approved_by = e.decision_approved().approved_by();
      s.approved_at = at;
      break;
    case Envelope::kQualificationScored:
      s.score = e.qualification_scored();
      break;
    case Envelope::kActionPlanned: {
      auto& a = s.actions[e.action_planned().action()];
      a.status = action_status_after(e.payload_case());
      a.planned_at = a.changed_at = at;
      a.day_from = e.action_planned().day_from();
      a.day_to = e.action_planned().day_to();
      a.human_required = e.action_planned().human_required();
      break;
    }
    case Envelope::kActionStarted: {
      auto& a = s.actions[e.action_started().action()];
      a.status = action_status_after(e.payload_case());
      a.started_at = a.changed_at = at;
      if (a.planned_at == 0) a.human_required = action_needs_human(e.action_started().action());
      a.result.clear();
      ++a.starts;
      if (s.first_action_at == 0) s.first_action_at = at;
      break;
    }
    case Envelope::kActionCompleted: {
      auto& a = s.actions[e.action_completed().action()];
      a.completed_event_id = e.event_id();
      if (correction) {
        a.result = e.action_completed().result();
        a.notes = e.action_completed().notes();
        break;
      }
      a.status = action_status_after(e.payload_case());
      a.completed_at = a.changed_at = at;
      a.result = e.action_completed().result();
      a.notes = e.action_completed().notes();
      s.last_completed = e.action_completed().action();
      break;
    }
    case Envelope::kActionBlocked: {
      auto& a = s.actions[e.action_blocked().action()];
      a.status = action_status_after(e.payload_case());
      a.changed_at = at;
      a.notes = e.action_blocked().reason();
      break;
    }
    case Envelope::kActionUnblocked: {
      auto& a = s.actions[e.action_unblocked().action()];
      a.status = action_status_after(e.payload_case());
      a.changed_at = at;
      break;
    }
    case Envelope::kDealClosed:
      s.outcome = e.deal_closed();
      s.outcome_at = at;
      s.outcome_event_id = e.event_id();
      break;
    case Envelope::kLearningRecorded: {
      const auto& l = e.learning_recorded();
      if (const int i = s.learning_about(l.assumption_id()); i >= 0 && !l.corrects_event_id().empty()) {
        s.learnings[i] = l;
        s.learning_event_ids[i] = e.event_id();
        s.learning_dates[i] = at;
        ++s.corrections;
      } else {
        s.learnings.push_back(l);
        s.learning_event_ids.push_back(e.event_id());
        s.learning_dates.push_back(at);
      }
      s.learning_at = std::max(s.learning_at, at);
      break;
    }
    default:
      --s.version;  // not a deal event: not part of this thread's fold
      return;
  }
  if (s.stage() != before) s.stage_entered_at = at;
}

Stage CampaignState::stage() const {
  return stage_of({.input = opened.has_value(),
                   .hypothesis = hypothesis.has_value(),
                   .implication = implication.has_value(),
                   .decision = decision.has_value(),
                   .actions = !prospects.empty() || !contacts.empty() || sequence || sent > 0,
                   .learning = results.has_value()});
}

void apply(CampaignState& s, const Envelope& e) {
  ++s.version;
  s.last_event_at = std::max(s.last_event_at, from_timestamp(e.occurred_at()));
  switch (e.payload_case()) {
    case Envelope::kCampaignOpened:
      s.opened = e.campaign_opened();
      s.campaign_id = e.campaign_opened().campaign_id();
      s.opened_at = from_timestamp(e.occurred_at());
      break;
    case Envelope::kCampaignHypothesisStated:
      s.hypothesis = e.campaign_hypothesis_stated();
      s.hypothesis_at = from_timestamp(e.occurred_at());
      break;
    case Envelope::kCampaignImplicationAssessed:
      s.implication = e.campaign_implication_assessed();
      s.implication_at = from_timestamp(e.occurred_at());
      break;
    case Envelope::kCampaignDecisionMade:
      s.decision = e.campaign_decision_made();
      s.decision_at = from_timestamp(e.occurred_at());
      break;
    case Envelope::kProspectAdded:
      s.prospects[lower(e.prospect_added().company())] = e.prospect_added();
      s.entries.push_back(e);
      break;
    case Envelope::kContactAdded:
      s.contacts[person_key(e.contact_added().contact().email(), e)] = e.contact_added().contact();
      s.entries.push_back(e);
      break;
    case Envelope::kOutreachSequenceDefined:
      s.sequence = e.outreach_sequence_defined();
      s.sequence_at = from_timestamp(e.occurred_at());
      break;
    case Envelope::kOutreachSent:
      ++s.sent;
      s.entries.push_back(e);
      break;
    case Envelope::kResponseReceived:
      s.responses[person_key(e.response_received().email(), e)] = word(response_kind(e.response_received()));
      s.entries.push_back(e);
      break;
    case Envelope::kProspectConverted: s.conversions[lower(e.prospect_converted().company())] = e.prospect_converted().deal_id(); break;
    case Envelope::kCampaignResultsRecorded:
      s.results = e.campaign_results_recorded();
      s.results_at = from_timestamp(e.occurred_at());
      break;
    default: --s.version; break;
  }
}

}  // namespace leanos
