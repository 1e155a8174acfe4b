// The rules of the LeanOS sales workflow, once, as pure functions.
//
// decide_*(state, command, facts) returns the events to append to the thread's stream, or a
// rejection that says what is wrong and what would be right. No events at all: the command
// states a fact the thread already holds (a learning recorded again), so nothing is new. Nothing else decides what is
// valid: the CLI, the actors and the server all call these. They read no clock and do no I/O:
// the caller folds the state (events/thread.h) and gathers the facts.
//
// A command is an Envelope carrying the payload to record, with event_id, occurred_at and
// actor set by the caller. The first event returned keeps the command's event_id; events the
// rules add get ids derived from it, so a retried command stays idempotent in the store.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/domain.h"
#include "events/thread.h"

namespace leanos {

using Events = std::vector<Envelope>;

// The ids of the rules a command can break: Status::rule_id() of a rejection, and the
// `reason` of the google.rpc.ErrorInfo the server attaches (domain "leanos.v1"), so that a
// client branches on the id, not on the words. The parameters name the thread and what the
// rule looked at (deal_id, action, stage, needs, ...).
namespace rule {
inline constexpr const char* kUnknownDeal = "UNKNOWN_DEAL";
inline constexpr const char* kUnknownAssumption = "UNKNOWN_ASSUMPTION";
inline constexpr const char* kUnknownGoal = "UNKNOWN_GOAL";
inline constexpr const char* kUnknownSubgoal = "UNKNOWN_SUBGOAL";
inline constexpr const char* kUnknownCampaign = "UNKNOWN_CAMPAIGN";
inline constexpr const char* kUnknownContact = "UNKNOWN_CONTACT";
inline constexpr const char* kDealExists = "DEAL_EXISTS";
inline constexpr const char* kCampaignExists = "CAMPAIGN_EXISTS";
inline constexpr const char* kGoalExists = "GOAL_EXISTS";
inline constexpr const char* kAssumptionExists = "ASSUMPTION_EXISTS";
inline constexpr const char* kStageSkipped = "STAGE_SKIPPED";            // stage, needs
inline constexpr const char* kThreadEnded = "THREAD_ENDED";              // ended_by
inline constexpr const char* kNotQualified = "NOT_QUALIFIED";            // verdict
inline constexpr const char* kApprovalRequired = "APPROVAL_REQUIRED";    // impact, threshold
inline constexpr const char* kNothingToApprove = "NOTHING_TO_APPROVE";
inline constexpr const char* kNotLaunched = "CAMPAIGN_NOT_LAUNCHED";
inline constexpr const char* kActionState = "ACTION_STATE";              // action, status
inline constexpr const char* kActionOrder = "ACTION_ORDER";              // action, last_completed, may_start / running
inline constexpr const char* kOutcomeWhileActionRuns = "OUTCOME_WHILE_ACTION_RUNS";  // action, status
inline constexpr const char* kOutcomeContradictsAction = "OUTCOME_CONTRADICTS_ACTION";  // action, result, outcome
// A field of the command's payload that is missing, malformed or out of range (invalid_argument).
// `field` is its name in the payload as the proto spells it (arr_high, contact.email; JSON
// and gRPC clients see the same name); `other_field` the one it was compared with, if any.
// The reason names the fields by these names; the CLI says its flags instead.
inline constexpr const char* kInvalidField = "INVALID_FIELD";  // field, other_field
inline constexpr const char* kDocumentOutOfOrder = "DOCUMENT_OUT_OF_ORDER";  // path, in_force_at
inline constexpr const char* kDocumentNotInForce = "DOCUMENT_NOT_IN_FORCE";  // path
inline constexpr const char* kDocumentContentUnknown = "DOCUMENT_CONTENT_UNKNOWN";  // path, content_sha256
inline constexpr const char* kNothingToCorrect = "NOTHING_TO_CORRECT";        // deal_id, fact
inline constexpr const char* kCorrectionNotInForce = "CORRECTION_NOT_IN_FORCE";  // deal_id, fact, in_force
}  // namespace rule

// What a command may refer to outside its own thread.
struct Facts {
  std::set<std::string> assumptions;                   // registered in the canvas
  std::map<std::string, std::set<std::string>> goals;  // goal id -> its subgoal ids
  std::set<std::string> campaigns;                     // opened campaign ids
  double approval_threshold = 0.8;                     // workspace setting
};

// Per segment: how many versions of each artifact exist (versions are assigned, not typed).
struct SegmentState {
  int icp_versions = 0;
  int narrative_versions = 0;
  std::map<int, int> material_versions;  // MaterialKind -> versions
};
void apply(SegmentState& state, const Envelope& e);

Result<Events> decide_deal(const DealState& state, const Envelope& command, const Facts& facts);
Result<Events> decide_campaign(const CampaignState& state, const Envelope& command, const Facts& facts);
// What an interested response that opens a deal (ResponseReceived.opens_deal_id) commands
// besides itself: the deal's LeadCaptured (source campaign; the contact, the campaign's
// segment and goal) and the campaign's ProspectConverted. Both are dated at the response, by
// its actor, caused by it, with ids derived from its id (a retry derives the same). `state`
// is the campaign the response was decided against.
struct ResponseOpensDeal {
  Envelope lead;       // for the deal's stream, to decide_deal
  Envelope converted;  // for the campaign's stream, to decide_campaign
};
ResponseOpensDeal response_opens_deal(const CampaignState& state, const Envelope& response);
// A correction (Envelope.corrects_event_id) replaces a deal's fact (decide_deal checks which):
// any other command naming one is refused.
Status check_correction_kind(const Envelope& command);
// Goals, subgoals, assumptions, settings, content and analyses: checked against the facts.
Result<Events> decide_workspace(const Envelope& command, const Facts& facts);
Result<Events> decide_segment(const SegmentState& state, const Envelope& command);

// The documents stream folded: each path's version in force.
struct DocumentsState {
  struct InForce {
    std::string content, event_id;
    std::uint64_t position = 0;
    Micros written_at = 0;  // its business time
    bool removed = false;
    std::string content_sha256;  // its text named by the files layer's content, not held in `content`
  };
  std::map<std::string, InForce> paths;
  std::uint64_t version = 0;  // the stream's, folded up to
};
void apply(DocumentsState& state, const Envelope& e);
// A document's new version, whoever writes it (an import, the Command RPC, an agent): none
// when the text is the one in force — nothing to record, the version in force stands;
// refused when dated before the version in force, which a later version must follow
// (DOCUMENT_OUT_OF_ORDER), or when it removes a document not in force (DOCUMENT_NOT_IN_FORCE).
// A version whose text is a content of the files layer (content_sha256) is refused unless
// `content_held`: the caller's answer to whether the store holds that content.
Result<Events> decide_document(const DocumentsState& state, const Envelope& command, bool content_held = false);

// The scenarios stream folded: each name's latest version.
struct ScenariosState {
  struct Latest {
    v1::ScenarioSaved definition;
    std::string event_id;
    std::uint64_t position = 0;
  };
  std::map<std::string, Latest> names;
  std::uint64_t version = 0;
};
void apply(ScenariosState& state, const Envelope& e);
// A what-if scenario saved by name: none when its latest version reads the same (the retry of
// a save, or the same question asked again); refused when a change is malformed or a command
// it adds holds personal data (a saved scenario could not be forgotten with its person).
Result<Events> decide_scenario(const ScenariosState& state, const Envelope& command);

// Qualification (LeanOS sales:qualify): problem 0.30, authority 0.20, budget 0.20,
// urgency 0.15, solution fit 0.15. Total >= 0.8 QUALIFIED, >= 0.5 MAYBE, else DISQUALIFIED.
// Computed on integer thousandths so that the 0.8 and 0.5 boundaries are exact.
struct QualificationScore {
  double total;
  v1::QualificationVerdict verdict;
};
Result<QualificationScore> score_qualification(double problem, double authority, double budget, double urgency,
                                               double fit);


// Calendar days between two instants (UTC dates), as cycle time counts them.
int calendar_days(Micros from, Micros to);

// ---- What a fact causes ----------------------------------------------------------------------
// The folds (projections/) compute these from the facts, in business-time order; the process
// managers (actors/) record what the folds computed as derived events. One rule, two readers.

// The rule names of derived event ids (events/ids.h derived_event_id(cause, rule)).
inline constexpr const char* kConfidenceRule = "canvas:confidence";
inline constexpr const char* kCanvasMetricRule = "canvas:metric:";  // + the metric's name
inline constexpr const char* kGoalProgressRule = "goal:progress";
inline constexpr const char* kSubgoalProgressRule = "goal:subgoal";
inline constexpr const char* kTargetMetRule = "goal:target-met";
inline constexpr const char* kResponseOpensDealRule = "response-opens-deal";
inline constexpr const char* kResponseConvertsProspectRule = "response-converts-prospect";

struct ConfidenceChange {
  int confidence;
  v1::AssumptionStatus status;
};
// A learning's effect on its assumption: VALIDATED +10 (capped at 100) or the confidence the
// learning states; PARTIAL -10 (floored at 0) or the stated one, status CHALLENGED;
// INVALIDATED 0 %. nullopt: the learning changes nothing.
std::optional<ConfidenceChange> confidence_after(int previous, const v1::LearningRecorded& learning);

// What a won deal adds to a goal's or subgoal's metric (MRR, ARR, customers).
std::int64_t goal_contribution(v1::GoalMetric metric, const v1::DealClosed& closed);

// The events the process managers append to record what a fact caused (confidence changes,
// goal and subgoal progress, target met, canvas metrics, their restatements). The folds
// compute the same values from the facts and do not read these.
bool is_derived_record(const Envelope& e);

}  // namespace leanos
