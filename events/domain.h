// The domain's vocabulary in C++: stream names, building envelopes from payloads, and
// reading the words people type (verdicts, results, action types) into the schema's enums.
#pragma once

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/ids.h"
#include "events/result.h"
#include "events/time.h"
#include "leanos/v1/events.pb.h"
#include "leanos/v1/options.pb.h"

namespace leanos {

using v1::Envelope;

// What a raw append (`leanos append`, the Append RPC) may write: a generic event (or one with
// no payload) to a stream the rules do not own. failed_precondition otherwise, saying which
// command records it instead.
Status check_raw_append(std::string_view stream, const Envelope& event);

// The type names of the domain's events (LeadCaptured, ActionStarted, …), from the schema.
const std::vector<std::string>& domain_event_types();
// A type a subscriber filters on: a domain event type, or a type of its own (generic events)
// that is no near miss of a domain type: "ActionStart" would wait for ever, so it is
// invalid_argument naming the closest domain types.
Status check_event_type_filter(std::string_view type);

// Ids typed by people, named in errors. Assumption and subgoal ids (A4, SG1) may use upper
// case; ids that name a stream (deal, goal, campaign, segment) are lowercase slugs.
Status check_id(std::string_view what, std::string_view id);
Status check_slug(std::string_view what, std::string_view id);
// A workspace-relative path of a document: '/'-separated, no empty, '.', '..' or hidden part.
Status check_document_path(std::string_view path);
// A path the files layer keeps: workspace-relative, '/'-separated, valid UTF-8, no empty,
// '.' or '..' part, nothing inside .git, no control character; hidden names are fine.
Status check_file_path(std::string_view path);

// The deal (or campaign) a payload belongs to; "" for a payload of another kind.
// Business-time order: occurred_at, then position (the log's order breaks ties). Every fold
// applies events in this order, whatever order they were recorded in.
bool occurs_before(const Envelope& a, const Envelope& b);

std::string deal_id_of(const Envelope& e);
std::string campaign_id_of(const Envelope& e);

// An envelope carrying `payload` in the matching oneof field, with type = its message name.
Envelope make_event(const google::protobuf::Message& payload, Micros occurred_at);

// The payload message of an envelope, or nullptr for none.
const google::protobuf::Message* payload_of(const Envelope& e);

// The first personal field ([(personal) = true]) of `m` that holds text, as a path
// (`lead_captured.contact.email`); "" when none does.
std::string personal_text_in(const google::protobuf::Message& m);

// Words on the command line -> enums. Each error lists what would be accepted.
Result<v1::GoalMetric> parse_goal_metric(std::string_view text);
Result<v1::LeadSource> parse_lead_source(std::string_view text);
Result<v1::StrategicValue> parse_strategic(std::string_view text);
Result<v1::Verdict> parse_deal_verdict(std::string_view text);      // qualify|defer|reject (+ aliases)
Result<v1::Verdict> parse_campaign_verdict(std::string_view text);  // launch|defer|cancel
Result<v1::Outcome> parse_outcome(std::string_view text);
Result<v1::LearningResult> parse_learning_result(std::string_view text);
Result<v1::AssumptionStatus> parse_assumption_status(std::string_view text);
Result<v1::MaterialKind> parse_material_kind(std::string_view text);
Result<v1::AnalysisMode> parse_analysis_mode(std::string_view text);
// The workflow's clock (docs/domain.md, "SLAs"): every deadline and period the daily routine
// judges by, in one place.
namespace deadline {
inline constexpr int kInputRecordedHours = 24;  // a lead is recorded within 24 h of coming in
inline constexpr int kHypothesisDays = 2;       // after the input
inline constexpr int kImplicationDays = 3;      // after the hypothesis
inline constexpr int kDecisionDays = 7;         // after the implication
inline constexpr int kFirstActionDays = 2;      // after QUALIFY
inline constexpr int kLearningDays = 7;         // after the outcome
inline constexpr int kStallDays = 7;            // an open deal with no event for longer is stalled
inline constexpr int kLateInputShownDays = 7;   // a late-recorded lead stays in the queue this long
inline constexpr int kAgentDecisionShownDays = 1;  // an agent's QUALIFY is shown for review this long
inline constexpr int kRiskMediumDays = 30;      // on track with this little time left: Medium risk
inline constexpr int kRiskCriticalDays = 14;    // behind with this little time left: Critical
}  // namespace deadline

// The sales actions of stage 5, in pipeline order: the one catalogue every rule, fold, view
// and command takes them from.
inline constexpr const char* kSalesActions[] = {"sales:lead-intake", "sales:qualify", "sales:demo", "sales:pilot", "sales:close"};
// sales:lead-intake | sales:qualify (or sales:qualification) | sales:demo | sales:pilot | sales:close
Result<std::string> parse_action_type(std::string_view text);
// The results an action may complete with (upper case), e.g. sales:demo ->
// INTERESTED, NEEDS_REVISION, NOT_INTERESTED. Which result leads to which next action is the
// rules' (events/rules.cpp, leads_to).
const std::vector<std::string>& action_results(const std::string& action);
// Whether LeanOS runs the action with a human (lead intake is the agent's).
bool action_needs_human(const std::string& action);

std::string lower(std::string_view text);

// The `word` option of an enum value of the schema ("in_progress", "human-action"): what
// people read and scripts match. The value's name when it has none.
const std::string& word(const google::protobuf::EnumValueDescriptor* value);
template <class E>
const std::string& word(E value) {
  return word(google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value));
}
// The value whose word is `text`; nullopt for none.
std::optional<int> from_word(const google::protobuf::EnumDescriptor* type, std::string_view text);
// The words of every value but the unspecified one, in number order: "open, won, lost".
std::string words_of(const google::protobuf::EnumDescriptor* type);
std::string verdict_name(v1::Verdict v);  // "QUALIFY"
// A response's kind: its `response`, else (recorded before that field) its `kind` word;
// unspecified for neither.
v1::ResponseKind response_kind(const v1::ResponseReceived& r);
std::string outcome_name(v1::Outcome o);  // "won"

}  // namespace leanos
