// Corrections of a deal's facts (Envelope.corrects_event_id): which facts a correction may
// replace, and how one is checked. decide_deal hands them here.
#include "events/rules.h"

#include <google/protobuf/util/message_differencer.h>

#include <tuple>

#include "events/rules_checks.h"

namespace leanos {

using namespace rules_detail;

Status check_correction_kind(const Envelope& c) {
  if (c.corrects_event_id().empty() || !deal_id_of(c).empty()) return Status::success();
  return Status::invalid("'" + c.type() + "' is not a fact a correction replaces; corrected are a deal's lead, hypothesis, implication, "
                         "decision, outcome and an action's result");
}

namespace rules_detail {

// A correction (Envelope.corrects_event_id): the fact in force of its kind replaced by the same
// kind of fact with other values, dated where the replaced one stands, and checked as it was:
// against the thread as it stood before it (a closed deal's facts were recorded open).
Result<Events> decide_correction(const DealState& s, const Envelope& c, const Facts& facts) {
  const std::string id = deal_id_of(c);
  if (auto st = deal_must_exist(s, id); !st) return st;
  DealState before = s;
  before.outcome.reset();
  std::string in_force, fact;
  Micros at = 0;
  const google::protobuf::Message* held = nullptr;
  v1::ActionCompleted completion;
  switch (c.payload_case()) {
    case Envelope::kLeadCaptured:
      in_force = s.lead_event_id, at = s.lead_at, fact = "lead", held = &*s.lead;
      before = DealState{};
      break;
    case Envelope::kHypothesisStated:
      in_force = s.hypothesis_event_id, at = s.hypothesis_at, fact = "hypothesis";
      if (s.hypothesis) held = &*s.hypothesis;
      before.decision.reset();
      break;
    case Envelope::kImplicationAssessed:
      in_force = s.implication_event_id, at = s.implication_at, fact = "implication";
      if (s.implication) held = &*s.implication;
      before.decision.reset();
      break;
    case Envelope::kDecisionMade:
      in_force = s.decision_event_id, at = s.decision_at, fact = "decision";
      if (s.decision) held = &*s.decision;
      before.decision.reset();
      break;
    case Envelope::kDealClosed:
      in_force = s.outcome_event_id, at = s.outcome_at, fact = "outcome";
      if (s.outcome) held = &*s.outcome;
      break;
    case Envelope::kActionCompleted: {
      auto canonical = parse_action_type(c.action_completed().action());
      if (!canonical) return canonical.status();
      fact = *canonical + " result";
      if (auto it = s.actions.find(*canonical); it != s.actions.end() && it->second.status == v1::ACTION_COMPLETED) {
        in_force = it->second.completed_event_id, at = it->second.completed_at;
        completion.set_deal_id(id);
        completion.set_action(*canonical);
        completion.set_result(it->second.result);
        completion.set_notes(it->second.notes);
        held = &completion;
        before.actions[*canonical].status = v1::ACTION_IN_PROGRESS;
      }
      break;
    }
    case Envelope::kLearningRecorded:
      return Status::invalid("a learning is corrected by recording it again (one per deal and assumption: the rules find the one it "
                             "replaces); leave corrects_event_id out");
    default:
      return Status::invalid("'" + c.type() + "' is not a fact a correction replaces; corrected are a deal's lead, hypothesis, "
                             "implication, decision, outcome and an action's result");
  }
  if (in_force.empty())
    return reject(rule::kNothingToCorrect, "deal '" + id + "' has no " + fact + " to correct", "record it (leave corrects_event_id out)",
                  {{"deal_id", id}, {"fact", fact}});
  if (in_force != c.corrects_event_id())
    return reject(rule::kCorrectionNotInForce,
                  "event '" + c.corrects_event_id() + "' is not the " + fact + " in force of deal '" + id + "' ('" + in_force + "' is)",
                  "correct the one in force", {{"deal_id", id}, {"fact", fact}, {"in_force", in_force}});
  Envelope asked = c;
  asked.clear_corrects_event_id();
  to_timestamp(at, asked.mutable_occurred_at());
  auto decided = decide_deal(before, asked, facts);
  if (!decided) return decided;
  decided->resize(1);  // the fact itself: what it derives was derived from the one it replaces
  Envelope& fixed = decided->front();
  fixed.set_corrects_event_id(c.corrects_event_id());
  if (c.has_lead_captured())
    for (const auto& [what, now, was] : {std::tuple{"goal_id", fixed.lead_captured().goal_id(), s.lead->goal_id()},
                                         std::tuple{"subgoal_id", fixed.lead_captured().subgoal_id(), s.lead->subgoal_id()},
                                         std::tuple{"campaign_id", fixed.lead_captured().campaign_id(), s.lead->campaign_id()}})
      if (now != was)
        return invalid_field(what, std::string("a correction keeps the deal's ") + what + " ('" + was +
                                       "'): the goal, subgoal and campaign a deal counts toward are fixed by its lead");
  if (c.has_decision_made() && fixed.decision_made().verdict() != s.decision->verdict())
    return invalid_field("verdict", "a correction keeps the decision's verdict (" + verdict_name(s.decision->verdict()) +
                                        "): another verdict is a new decision, recorded while the deal is open");
  const auto* payload = payload_of(fixed);
  if (held != nullptr && payload != nullptr && google::protobuf::util::MessageDifferencer::Equals(*payload, *held))
    return Status::rule(Code::already_exists, rule::kNothingToCorrect, "deal '" + id + "': the " + fact + " in force reads the same; nothing to correct",
                        "", {{"deal_id", id}, {"fact", fact}});
  return decided;
}

}  // namespace rules_detail

}  // namespace leanos
