// The rules of a deal thread (stages 1-6, actions in LeanOS's order, outcomes, learnings) and
// the checks every rule shares. Campaigns: rules_campaign.cpp; the canvas, goals, settings and
// segments: rules_workspace.cpp.
#include "events/rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "events/ids.h"
#include "events/text.h"

#include <google/protobuf/util/message_differencer.h>

#include "events/rules_checks.h"

namespace leanos {

namespace rules_detail {

Status reject(const char* rule_id, std::string reason, std::string hint, Status::Params params) {
  return Status::rule(Code::failed_precondition, rule_id, std::move(reason), std::move(hint), std::move(params));
}
Status missing(const char* rule_id, std::string reason, std::string hint, Status::Params params) {
  return Status::rule(Code::not_found, rule_id, std::move(reason), std::move(hint), std::move(params));
}

Envelope derived(const Envelope& command, const google::protobuf::Message& payload, const std::string& rule) {
  Envelope e = make_event(payload, from_timestamp(command.occurred_at()));
  e.set_event_id(derived_event_id(command.event_id(), rule));
  e.set_actor(command.actor());
  e.set_causation_id(command.event_id());
  e.set_correlation_id(command.correlation_id());
  return e;
}

Status invalid_field(const char* field, std::string reason, const char* other) {
  Status::Params params{{"field", field}};
  if (other) params.emplace_back("other_field", other);
  return Status::rule(Code::invalid_argument, rule::kInvalidField, std::move(reason), "", std::move(params));
}

Status check_percent(const char* field, std::int64_t v) {
  if (v < 0 || v > 100)
    return invalid_field(field, std::string(field) + " " + std::to_string(v) + " is out of range; give a whole percent from 0 to 100");
  return Status::success();
}

Status check_unit(const char* field, double v) {
  if (!std::isfinite(v) || v < 0 || v > 1)
    return invalid_field(field, std::string(field) + " " + std::to_string(v) + " is out of range; give a number from 0 to 1 (e.g. 0.85)");
  return Status::success();
}

Status check_money(const char* field, std::int64_t v) {
  if (v < 0) return invalid_field(field, std::string(field) + " " + std::to_string(v) + " is negative; give whole dollars, 0 or more");
  return Status::success();
}

Status check_text(const char* field, const std::string& v) {
  if (v.find_first_not_of(" \t\r\n") == std::string::npos) return invalid_field(field, std::string(field) + " is empty");
  return Status::success();
}

std::string date_of(Micros t) { return format_date(t); }

// An imported fact's `unknown` list (LeadCaptured.unknown, ImplicationAssessed.unknown): each
// name one the event knows, once; `empty(name)` says whether the field is indeed empty (an
// unknown field holding a value would be two answers).
template <typename Empty>
Status check_unknown(const char* event, const google::protobuf::RepeatedPtrField<std::string>& unknown,
                     std::initializer_list<const char*> names, Empty empty) {
  std::set<std::string> seen;
  for (const auto& u : unknown) {
    std::string known;
    bool ok = false;
    for (const char* n : names) {
      known += (known.empty() ? "" : ", ") + std::string(n);
      ok = ok || u == n;
    }
    if (!ok) return Status::invalid(std::string(event) + ": '" + u + "' is not a field that may be unknown; known: " + known);
    if (!seen.insert(u).second) return Status::invalid(std::string(event) + ": '" + u + "' is named unknown twice");
    if (!empty(u)) return Status::invalid(std::string(event) + ": '" + u + "' is named unknown but given; leave it empty or drop it from unknown");
  }
  return Status::success();
}

bool is_unknown(const google::protobuf::RepeatedPtrField<std::string>& unknown, const char* name) {
  return std::find(unknown.begin(), unknown.end(), name) != unknown.end();
}

const std::string& deal_id_of(const DealState& s) { return s.deal_id; }

Status unknown_assumption(const std::string& id, const Facts& facts) {
  std::string known;
  for (const auto& a : facts.assumptions) known += (known.empty() ? "" : ", ") + a;
  return missing(rule::kUnknownAssumption,
                 "assumption '" + id + "' is not in the canvas (" +
                     (known.empty() ? std::string("none registered yet") : "known: " + known) + ")",
                 "register it first (AssumptionRegistered " + id + ", with a statement and a confidence)",
                 {{"assumption_id", id}, {"known", known}});
}

Status check_goal_link(const std::string& goal, const std::string& subgoal, const Facts& facts) {
  if (goal.empty()) {
    if (!subgoal.empty()) return invalid_field("goal_id", "subgoal '" + subgoal + "' given without goal_id; give the goal it belongs to");
    return Status::success();
  }
  auto it = facts.goals.find(goal);
  if (it == facts.goals.end())
    return missing(rule::kUnknownGoal, "goal '" + goal + "' does not exist",
                   "define it first (GoalDefined " + goal + ")", {{"goal_id", goal}});
  if (!subgoal.empty() && !it->second.count(subgoal))
    return missing(rule::kUnknownSubgoal, "subgoal '" + subgoal + "' is not a subgoal of goal '" + goal + "'",
                   "add it first (SubgoalDefined " + subgoal + " of goal " + goal + ")",
                   {{"goal_id", goal}, {"subgoal_id", subgoal}});
  return Status::success();
}

Status deal_must_exist(const DealState& s, const std::string& id) {
  if (!s.exists())
    return missing(rule::kUnknownDeal, "deal '" + id + "' does not exist",
                   "open it first (LeadCaptured for deal " + id + ")",
                   {{"deal_id", id}});
  return Status::success();
}

Status deal_must_be_open(const DealState& s, const char* stage) {
  if (s.rejected())
    return reject(rule::kThreadEnded,
                  "deal '" + deal_id_of(s) + "' was rejected on " + date_of(s.decision_at) + ": REJECT ends the thread, so " +
                      stage + " cannot be recorded; open a new deal if the lead comes back",
                  "", {{"deal_id", deal_id_of(s)}, {"ended_by", "REJECT"}});
  if (s.terminal())
    return reject(rule::kThreadEnded,
                  "deal '" + deal_id_of(s) + "' was closed " + outcome_name(s.outcome->outcome()) + " on " +
                      date_of(s.outcome_at) + "; a closed thread accepts only learning",
                  "record what it taught (LearningRecorded)", {{"deal_id", deal_id_of(s)}, {"ended_by", outcome_name(s.outcome->outcome())}});
  return Status::success();
}

// Stage 5 in LeanOS's order (docs/domain.md, "Inside stage 5"): an action starts only when
// the last completed action's result leads to it. A completion that names no result goes on
// to the next action. A campaign's deal starts at qualify.
bool leads_to(const DealState& s, const std::string& action) {
  const std::string& last = s.last_completed;
  std::string result;
  if (auto it = s.actions.find(last); it != s.actions.end()) result = it->second.result;
  // `or_unnamed`: a completion without a result leads here too (it goes on to the next action).
  auto was = [&](const char* a, std::initializer_list<const char*> results, bool or_unnamed) {
    if (last != a) return false;
    if (result.empty()) return or_unnamed;
    return std::any_of(results.begin(), results.end(), [&](const char* r) { return result == r; });
  };
  if (action == "sales:lead-intake") return last.empty();
  if (action == "sales:qualify")
    return was("sales:lead-intake", {"READY_FOR_QUALIFICATION"}, true) || was("sales:qualify", {"MAYBE"}, false) ||
           (last.empty() && s.lead && s.lead->source() == v1::CAMPAIGN);
  if (action == "sales:demo") return was("sales:qualify", {"QUALIFIED"}, true) || was("sales:demo", {"NEEDS_REVISION"}, false);
  if (action == "sales:pilot") return was("sales:demo", {"INTERESTED"}, true);
  if (action == "sales:close") return was("sales:demo", {"INTERESTED"}, true) || was("sales:pilot", {"SUCCESS"}, true);
  return false;
}

Status action_may_start(const DealState& s, const std::string& id, const std::string& action) {
  for (const auto& [other, a] : s.actions)
    if (other != action && (a.status == v1::ACTION_IN_PROGRESS || a.status == v1::ACTION_BLOCKED))
      return reject(rule::kActionOrder,
                    "deal '" + id + "': " + action + " cannot start while " + other + " is " + word(a.status) + " (since " +
                        date_of(a.changed_at) + "); stage 5 runs one action at a time: complete " + other + " first",
                    "", {{"deal_id", id}, {"action", action}, {"running", other}});
  if (leads_to(s, action)) return Status::success();
  std::string now_allowed;
  for (const char* a : kSalesActions)
    if (leads_to(s, a)) now_allowed += (now_allowed.empty() ? "" : " or ") + std::string(a);
  std::string last = "no action has completed yet";
  if (!s.last_completed.empty()) {
    const auto& r = s.actions.at(s.last_completed).result;
    last = "the last completed action is " + s.last_completed + (r.empty() ? "" : " (" + r + ")");
  }
  static const std::map<std::string, std::string> kAfter = {
      {"sales:lead-intake", "it comes first"},
      {"sales:qualify", "it follows sales:lead-intake READY_FOR_QUALIFICATION or sales:qualify MAYBE (a campaign's deal starts with it)"},
      {"sales:demo", "it follows sales:qualify QUALIFIED or sales:demo NEEDS_REVISION"},
      {"sales:pilot", "it follows sales:demo INTERESTED"},
      {"sales:close", "it follows sales:demo INTERESTED or sales:pilot SUCCESS"},
  };
  return reject(rule::kActionOrder, "deal '" + id + "': " + action + " cannot start now: " + kAfter.at(action) + ", and " + last,
                now_allowed.empty() ? std::string("no action can start: record the outcome (DealClosed)")
                                    : "start " + now_allowed + " instead (ActionStarted)",
                {{"deal_id", id}, {"action", action}, {"last_completed", s.last_completed}, {"may_start", now_allowed}});
}

// An outcome closes the thread: nothing may be under way, and it may not contradict what the
// last completed action found. Closing without a close action stays allowed.
Status outcome_fits_actions(const DealState& s, const std::string& id, v1::Outcome outcome) {
  for (const char* a : kSalesActions) {
    auto it = s.actions.find(a);
    if (it == s.actions.end()) continue;
    if (it->second.status == v1::ACTION_IN_PROGRESS)
      return reject(rule::kOutcomeWhileActionRuns,
                    "deal '" + id + "': " + a + " is in progress (since " + date_of(it->second.changed_at) +
                        "); nothing closes while an action runs",
                    std::string("complete ") + a + " (ActionCompleted with its result) or block it (ActionBlocked) first",
                    {{"deal_id", id}, {"action", a}, {"status", word(v1::ACTION_IN_PROGRESS)}});
    if (it->second.status == v1::ACTION_BLOCKED && outcome == v1::WON)
      return reject(rule::kOutcomeWhileActionRuns,
                    "deal '" + id + "': " + a + " is blocked; a deal with a blocked action cannot be won: unblock and complete it first",
                    "", {{"deal_id", id}, {"action", a}, {"status", word(v1::ACTION_BLOCKED)}});
  }
  if (s.last_completed.empty()) return Status::success();
  const std::string& r = s.actions.at(s.last_completed).result;
  const bool against_won = r == "LOST" || r == "FAILED" || r == "NOT_INTERESTED" || r == "DISQUALIFIED";
  if ((outcome == v1::WON && against_won) || (outcome == v1::LOST && r == "WON"))
    return reject(rule::kOutcomeContradictsAction,
                  "deal '" + id + "': " + s.last_completed + " completed " + r + ", so the deal cannot be closed " +
                      outcome_name(outcome) + "; close it " + (outcome == v1::WON ? "lost" : "won") +
                      ", or record what changed with another action first",
                  "", {{"deal_id", id}, {"action", s.last_completed}, {"result", r}, {"outcome", outcome_name(outcome)}});
  return Status::success();
}

Status actions_need_qualify(const DealState& s, const std::string& id) {
  if (auto st = deal_must_be_open(s, "an action"); !st) return st;
  if (!s.decision)
    return reject(rule::kStageSkipped, "deal '" + id + "' has no decision yet: actions (stage 5) come after a QUALIFY decision (stage 4)",
                  "decide it first (DecisionMade QUALIFY, with a reason)",
                  {{"deal_id", id}, {"stage", "5-actions"}, {"needs", "4-decision"}});
  if (s.decision->verdict() != v1::QUALIFY)
    return reject(rule::kNotQualified,
                  "deal '" + id + "' is decided " + verdict_name(s.decision->verdict()) + ": actions need a QUALIFY decision",
                  "decide it again (DecisionMade QUALIFY, with a reason)",
                  {{"deal_id", id}, {"verdict", verdict_name(s.decision->verdict())}});
  if (s.decision->approval_required() && !s.approved)
    return reject(rule::kApprovalRequired,
                  "deal '" + id + "': the QUALIFY decision has impact " + std::to_string(s.decision->impact()).substr(0, 4) +
                      " >= the approval threshold and is not approved yet",
                  "a human approves it (DecisionApproved, naming who)",
                  {{"deal_id", id},
                   {"impact", std::to_string(s.decision->impact()).substr(0, 4)},
                   {"threshold", std::to_string(s.decision->threshold()).substr(0, 4)}});
  return Status::success();
}


}  // namespace rules_detail

using namespace rules_detail;

int calendar_days(Micros from, Micros to) {
  auto day = [](Micros t) { return t >= 0 ? t / kMicrosPerDay : (t - kMicrosPerDay + 1) / kMicrosPerDay; };
  return static_cast<int>(day(to) - day(from));
}

Result<QualificationScore> score_qualification(double problem, double authority, double budget, double urgency, double fit) {
  const std::pair<const char*, double> dims[] = {
      {"problem", problem}, {"authority", authority}, {"budget", budget}, {"urgency", urgency}, {"fit", fit}};
  for (const auto& [name, v] : dims)
    if (auto s = check_unit(name, v); !s) return s;
  auto milli = [](double v) { return static_cast<std::int64_t>(std::llround(v * 1000)); };
  // weights in hundredths, dimensions in thousandths: total in units of 1e-5
  const std::int64_t total = 30 * milli(problem) + 20 * milli(authority) + 20 * milli(budget) + 15 * milli(urgency) +
                             15 * milli(fit);
  const auto verdict = total >= 80000 ? v1::QUALIFIED : total >= 50000 ? v1::MAYBE : v1::DISQUALIFIED;
  return QualificationScore{static_cast<double>(total) / 100000.0, verdict};
}



void apply(SegmentState& s, const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kIcpDefined: ++s.icp_versions; break;
    case Envelope::kNarrativeWritten: ++s.narrative_versions; break;
    case Envelope::kMaterialPublished: ++s.material_versions[e.material_published().kind()]; break;
    default: break;
  }
}

Result<Events> decide_deal(const DealState& s, const Envelope& c, const Facts& facts) {
  const std::string id = deal_id_of(c);
  if (id.empty()) return Status::invalid("'" + c.type() + "' is not a deal command");
  if (auto st = check_slug("deal id", id); !st) return st;
  if (s.exists() && s.deal_id != id) return Status::invalid("command for deal '" + id + "' folded against deal '" + s.deal_id + "'");
  if (!c.corrects_event_id().empty()) return decide_correction(s, c, facts);
  const Micros at = from_timestamp(c.occurred_at());
  if (s.exists() && !c.has_lead_captured() && at < s.lead_at)
    return Status::invalid("deal '" + id + "': " + c.type() + " dated " + format_time(at) + " is before the deal's lead (" +
                           format_time(s.lead_at) + "); nothing in a thread happens before its lead came in: date it " +
                           date_of(s.lead_at) + " or later");
  Events out{c};
  Envelope& first = out.front();

  switch (c.payload_case()) {
    case Envelope::kLeadCaptured: {
      const auto& l = c.lead_captured();
      if (s.exists())
        return Status::rule(Code::already_exists, rule::kDealExists,
                            "deal '" + id + "' already exists (opened " + date_of(s.lead_at) + " for " + s.lead->company() + ")",
                            "pick another deal id, or continue this one (HypothesisStated)", {{"deal_id", id}});
      if (auto st = check_text("company", l.company()); !st) return st;
      // An imported lead may name what its file did not state; the rest is required.
      if (auto st = check_unknown("LeadCaptured", l.unknown(), {"segment", "contact", "email", "source", "signal"},
                                  [&](const std::string& f) {
                                    return f == "segment"   ? l.segment().empty()
                                           : f == "contact" ? l.contact().name().empty()
                                           : f == "email"  ? l.contact().email().empty()
                                           : f == "source" ? l.source() == v1::LEAD_SOURCE_UNSPECIFIED
                                                           : l.signal().empty();
                                  });
          !st)
        return st;
      if (!is_unknown(l.unknown(), "segment"))
        if (auto st = check_slug("segment", l.segment()); !st) return st;
      if (l.source() == v1::LEAD_SOURCE_UNSPECIFIED && !is_unknown(l.unknown(), "source"))
        return invalid_field("source", "source is required: inbound, outbound or campaign");
      if (!is_unknown(l.unknown(), "contact"))
        if (auto st = check_text("contact.name", l.contact().name()); !st) return st;
      if (!is_unknown(l.unknown(), "email") && l.contact().email().find('@') == std::string::npos)
        return invalid_field("contact.email", "contact.email '" + l.contact().email() + "' is not an email address (name@company.com)");
      if (!is_unknown(l.unknown(), "signal"))
        if (auto st = check_text("signal", l.signal()); !st) return st;
      if (auto st = check_goal_link(l.goal_id(), l.subgoal_id(), facts); !st) return st;
      if (!l.campaign_id().empty() && !facts.campaigns.count(l.campaign_id()))
        return missing(rule::kUnknownCampaign, "campaign '" + l.campaign_id() + "' does not exist",
                       "open it first (CampaignOpened " + l.campaign_id() + ")", {{"campaign_id", l.campaign_id()}});
      return out;
    }
    case Envelope::kHypothesisStated: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = deal_must_be_open(s, "a hypothesis"); !st) return st;
      const auto& h = c.hypothesis_stated();
      if (!facts.assumptions.count(h.assumption_id())) return unknown_assumption(h.assumption_id(), facts);
      if (auto st = check_percent("confidence", h.confidence()); !st) return st;
      if (h.segment().empty()) first.mutable_hypothesis_stated()->set_segment(s.lead->segment());
      return out;
    }
    case Envelope::kImplicationAssessed: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = deal_must_be_open(s, "an implication"); !st) return st;
      if (!s.hypothesis)
        return reject(rule::kStageSkipped, "deal '" + id + "' has no hypothesis: stage 3 (implication) needs stage 2 first",
                      "state the hypothesis first (HypothesisStated: the assumption it tests, a confidence)",
                      {{"deal_id", id}, {"stage", "3-implication"}, {"needs", "2-hypothesis"}});
      const auto& i = c.implication_assessed();
      if (auto st = check_money("arr_low", i.arr_low()); !st) return st;
      if (auto st = check_money("arr_high", i.arr_high()); !st) return st;
      if (i.arr_high() < i.arr_low())
        return invalid_field("arr_high", "arr_high " + std::to_string(i.arr_high()) + " is below arr_low " + std::to_string(i.arr_low()), "arr_low");
      if (auto st = check_unknown("ImplicationAssessed", i.unknown(), {"strategic"},
                                  [&](const std::string&) { return i.strategic() == v1::STRATEGIC_VALUE_UNSPECIFIED; });
          !st)
        return st;
      if (i.strategic() == v1::STRATEGIC_VALUE_UNSPECIFIED && !is_unknown(i.unknown(), "strategic"))
        return invalid_field("strategic", "strategic is required: high, medium or low");
      if (i.cost_hours() < 0) return invalid_field("cost_hours", "cost_hours is negative; give the hours the deal will take");
      if (auto st = check_unit("priority", i.priority()); !st) return st;
      return out;
    }
    case Envelope::kDecisionMade: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = deal_must_be_open(s, "a decision"); !st) return st;
      if (!s.hypothesis || !s.implication)
        return reject(rule::kStageSkipped,
                      "deal '" + id + "' cannot be decided yet: stage 4 (decision) needs " +
                          (!s.hypothesis ? "stage 2 (hypothesis)" : "stage 3 (implication)") + " first",
                      std::string(!s.hypothesis ? "state the hypothesis first (HypothesisStated)" : "assess the implication first (ImplicationAssessed)"),
                      {{"deal_id", id}, {"stage", "4-decision"}, {"needs", !s.hypothesis ? "2-hypothesis" : "3-implication"}});
      auto d = *first.mutable_decision_made();
      if (d.verdict() != v1::QUALIFY && d.verdict() != v1::DEFER && d.verdict() != v1::REJECT)
        return invalid_field("verdict", "a deal decision's verdict is qualify, defer or reject");
      if (auto st = check_text("reason", d.reason()); !st) return st;
      if (d.impact() < 0) d.set_impact(s.implication->priority());  // no impact given: the implication's priority
      if (auto st = check_unit("impact", d.impact()); !st) return st;
      d.set_threshold(facts.approval_threshold);
      d.set_approval_required(d.verdict() == v1::QUALIFY && d.impact() >= facts.approval_threshold);
      *first.mutable_decision_made() = d;
      return out;
    }
    case Envelope::kDecisionApproved: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = deal_must_be_open(s, "an approval"); !st) return st;
      if (!s.decision)
        return reject(rule::kNothingToApprove, "deal '" + id + "' has no decision to approve", "decide it first (DecisionMade)",
                      {{"deal_id", id}});
      if (!s.decision->approval_required())
        return reject(rule::kNothingToApprove,
                      "deal '" + id + "': the " + verdict_name(s.decision->verdict()) + " decision of " + date_of(s.decision_at) +
                          " has impact below the approval threshold and needs no approval",
                      "", {{"deal_id", id}});
      if (s.approved)
        return reject(rule::kNothingToApprove,
                      "deal '" + id + "': the decision of " + date_of(s.decision_at) + " was already approved by " + s.approved_by, "",
                      {{"deal_id", id}, {"approved_by", s.approved_by}});
      if (auto st = check_text("approved_by", c.decision_approved().approved_by()); !st) return st;
      first.mutable_decision_approved()->set_decision_event_id(s.decision_event_id);
      return out;
    }
    case Envelope::kActionPlanned:
    case Envelope::kActionStarted:
    case Envelope::kActionCompleted:
    case Envelope::kActionBlocked:
    case Envelope::kActionUnblocked: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = actions_need_qualify(s, id); !st) return st;
      std::string action;
      switch (c.payload_case()) {
        case Envelope::kActionPlanned: action = c.action_planned().action(); break;
        case Envelope::kActionStarted: action = c.action_started().action(); break;
        case Envelope::kActionCompleted: action = c.action_completed().action(); break;
        case Envelope::kActionBlocked: action = c.action_blocked().action(); break;
        default: action = c.action_unblocked().action(); break;
      }
      auto canonical = parse_action_type(action);
      if (!canonical) return canonical.status();
      auto it = s.actions.find(*canonical);
      const v1::ActionStatus code = it == s.actions.end() ? v1::ACTION_STATUS_UNSPECIFIED : it->second.status;
      const std::string status = code == v1::ACTION_STATUS_UNSPECIFIED ? "" : word(code);
      switch (c.payload_case()) {
        case Envelope::kActionPlanned: {
          auto* p = first.mutable_action_planned();
          p->set_action(*canonical);
          // The catalogue says who runs it: a client may ask for a person, never waive one.
          p->set_human_required(p->human_required() || action_needs_human(*canonical));
          if (code == v1::ACTION_IN_PROGRESS || code == v1::ACTION_BLOCKED)
            return reject(rule::kActionState, "action " + *canonical + " of deal '" + id + "' is " + status + " already");
          if (p->day_from() < 0 || p->day_to() < p->day_from())
            return invalid_field("day_to",
                                 "planned window day " + std::to_string(p->day_from()) + "-" + std::to_string(p->day_to()) +
                                     " is not a window; give day_from <= day_to, both >= 0",
                                 "day_from");
          break;
        }
        case Envelope::kActionStarted:
          first.mutable_action_started()->set_action(*canonical);
          if (code == v1::ACTION_IN_PROGRESS || code == v1::ACTION_BLOCKED)
            return reject(rule::kActionState,
                          "action " + *canonical + " of deal '" + id + "' is already " + status + " (since " +
                              date_of(it->second.changed_at) + ")",
                          "complete it (ActionCompleted) or block it (ActionBlocked)",
                          {{"deal_id", id}, {"action", *canonical}, {"status", status}});
          if (auto st = action_may_start(s, id, *canonical); !st) return st;
          break;
        case Envelope::kActionCompleted: {
          auto* p = first.mutable_action_completed();
          p->set_action(*canonical);
          if (code != v1::ACTION_IN_PROGRESS)
            return reject(rule::kActionState,
                          "action " + *canonical + " of deal '" + id + "' is not in progress" +
                              (status.empty() ? "" : " (it is " + status + ")"),
                          "start it first (ActionStarted)",
                          {{"deal_id", id}, {"action", *canonical}, {"status", status}});
          if (!p->result().empty()) {
            std::string r;
            for (char ch : p->result()) r += ch == '-' || ch == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            const auto& allowed = action_results(*canonical);
            if (std::find(allowed.begin(), allowed.end(), r) == allowed.end()) {
              std::string list;
              for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
              return Status::invalid("outcome '" + p->result() + "' is not a result of " + *canonical + "; one of " + list);
            }
            p->set_result(r);
          }
          break;
        }
        case Envelope::kActionBlocked:
          first.mutable_action_blocked()->set_action(*canonical);
          if (code != v1::ACTION_IN_PROGRESS && code != v1::ACTION_PLANNED)
            return reject(rule::kActionState, "action " + *canonical + " of deal '" + id + "' is not planned or in progress, so it cannot be blocked");
          if (auto st = check_text("reason", c.action_blocked().reason()); !st) return st;
          break;
        default:
          first.mutable_action_unblocked()->set_action(*canonical);
          if (code != v1::ACTION_BLOCKED) return reject(rule::kActionState, "action " + *canonical + " of deal '" + id + "' is not blocked");
          break;
      }
      return out;
    }
    case Envelope::kQualificationScored: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = actions_need_qualify(s, id); !st) return st;
      auto* q = first.mutable_qualification_scored();
      auto score = score_qualification(q->problem(), q->authority(), q->budget(), q->urgency(), q->fit());
      if (!score) return score.status();
      q->set_total(score->total);
      q->set_verdict(score->verdict);
      if (score->verdict == v1::DISQUALIFIED) {  // LeanOS: lost, reason disqualified, nurture list
        v1::DealClosed closed;
        closed.set_deal_id(id);
        closed.set_outcome(v1::LOST);
        closed.set_reason("disqualified");
        closed.set_cycle_days(calendar_days(s.lead_at, at));
        closed.set_segment(s.lead->segment());
        closed.set_goal_id(s.lead->goal_id());
        closed.set_subgoal_id(s.lead->subgoal_id());
        closed.set_campaign_id(s.lead->campaign_id());
        out.push_back(derived(c, closed, "disqualified-closes-deal"));
      }
      return out;
    }
    case Envelope::kDealClosed: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (auto st = deal_must_be_open(s, "an outcome"); !st) return st;
      if (!s.decision)
        return reject(rule::kStageSkipped, "deal '" + id + "' has no decision: an outcome (stage 6) needs a decision (stage 4) first",
                      "decide it first (DecisionMade QUALIFY, DEFER or REJECT, with a reason)",
                      {{"deal_id", id}, {"stage", "6-learning"}, {"needs", "4-decision"}});
      auto* d = first.mutable_deal_closed();
      if (d->outcome() == v1::OUTCOME_UNSPECIFIED) return invalid_field("outcome", "outcome is required: won, lost or stalled");
      if (d->outcome() == v1::WON && s.decision->verdict() != v1::QUALIFY)
        return reject(rule::kNotQualified,
                      "deal '" + id + "' is decided " + verdict_name(s.decision->verdict()) + "; only a QUALIFY deal can be won", "",
                      {{"deal_id", id}, {"verdict", verdict_name(s.decision->verdict())}});
      if (auto st = outcome_fits_actions(s, id, d->outcome()); !st) return st;
      if (auto st = check_money("arr", d->arr()); !st) return st;
      if (auto st = check_money("mrr", d->mrr()); !st) return st;
      if (auto st = check_money("one_off", d->one_off()); !st) return st;
      if (d->outcome() == v1::WON && d->arr() == 0 && d->mrr() == 0 && d->one_off() == 0)
        return Status::invalid("a won deal needs its value: ARR (whole dollars a year, recurring) or MRR (a month), "
                               "and/or one-off revenue that does not recur");
      if (d->outcome() != v1::WON && (d->arr() != 0 || d->mrr() != 0 || d->one_off() != 0))
        return Status::invalid("only a won deal has revenue; leave ARR, MRR and one-off revenue out for a " +
                               outcome_name(d->outcome()) + " deal");
      // ARR is recurring revenue over a year: 12 x MRR, to the dollar that whole-dollar MRR
      // allows. Revenue that does not recur is one-off, never ARR.
      if (d->mrr() > std::numeric_limits<std::int64_t>::max() / 12)
        return Status::invalid("MRR " + std::to_string(d->mrr()) + " is too large: 12 x MRR does not fit in whole dollars");
      if (d->has_mrr() && d->arr() != 0 && (d->arr() < d->mrr() * 12 || d->arr() >= d->mrr() * 12 + 12))
        return Status::invalid("ARR $" + std::to_string(d->arr()) + " is not 12 x MRR $" + std::to_string(d->mrr()) + " ($" +
                               std::to_string(d->mrr() * 12) + "): ARR is recurring revenue over a year, so give one of them; "
                               "revenue that does not recur (set-up, services, a licence) is one-off");
      if (!d->has_mrr()) d->set_mrr(d->arr() / 12);
      if (d->arr() == 0) d->set_arr(d->mrr() * 12);
      if (at < s.lead_at)
        return Status::invalid("the outcome's date " + date_of(at) + " is before the lead came in (" + date_of(s.lead_at) + ")");
      if (d->cycle_days() != 0) return Status::invalid("cycle time is derived from the lead's date, never given");
      // The deal's dimensions are its lead's, copied here for the folds: never given, like the
      // cycle time (one that agrees with the lead is no contradiction).
      for (const auto& [what, given, own] : {std::tuple{"segment", &d->segment(), &s.lead->segment()},
                                             std::tuple{"goal_id", &d->goal_id(), &s.lead->goal_id()},
                                             std::tuple{"subgoal_id", &d->subgoal_id(), &s.lead->subgoal_id()},
                                             std::tuple{"campaign_id", &d->campaign_id(), &s.lead->campaign_id()}})
        if (!given->empty() && *given != *own)
          return Status::invalid(std::string("an outcome's ") + what + " is the deal's own, from its lead ('" + *own +
                                 "'), never given: leave it out (it was '" + *given + "')");
      if (d->margin_pct() < -100 || d->margin_pct() > 100) return invalid_field("margin_pct", "margin_pct is a percent from -100 to 100");
      if (auto st = check_money("cost", d->cost()); !st) return st;
      if (d->satisfaction() < 0 || d->satisfaction() > 10) return invalid_field("satisfaction", "satisfaction is 1..10 (0 = not measured)");
      d->set_cycle_days(calendar_days(s.lead_at, at));
      d->set_segment(s.lead->segment());
      d->set_goal_id(s.lead->goal_id());
      d->set_subgoal_id(s.lead->subgoal_id());
      d->set_campaign_id(s.lead->campaign_id());
      return out;
    }
    case Envelope::kLearningRecorded: {
      if (auto st = deal_must_exist(s, id); !st) return st;
      if (!s.outcome)
        return reject(rule::kStageSkipped, "deal '" + id + "' has no outcome yet: learning (stage 6) follows the outcome",
                      "record the outcome first (DealClosed WON, LOST or STALLED)",
                      {{"deal_id", id}, {"stage", "6-learning"}, {"needs", "outcome"}});
      auto* l = first.mutable_learning_recorded();
      if (l->assumption_id().empty() && s.hypothesis) l->set_assumption_id(s.hypothesis->assumption_id());
      if (!facts.assumptions.count(l->assumption_id())) return unknown_assumption(l->assumption_id(), facts);
      if (l->result() == v1::LEARNING_RESULT_UNSPECIFIED) return invalid_field("result", "result is required: validated, invalidated or partial");
      if (l->has_confidence()) {
        if (auto st = check_percent("confidence", l->confidence()); !st) return st;
        if (l->result() == v1::INVALIDATED && l->confidence() != 0)
          return invalid_field("confidence", "an invalidated assumption has confidence 0 %; leave confidence out or give 0");
      }
      if (l->result() == v1::INVALIDATED) l->set_confidence(0);
      if (!l->corrects_event_id().empty() || l->corrected_result() != v1::LEARNING_RESULT_UNSPECIFIED)
        return Status::invalid("corrects_event_id and corrected_result are filled by the rules; leave them out");
      // One learning per deal and assumption: the same one again is the same fact (nothing
      // new: a tired user or an agent re-running a step); a different one corrects it.
      if (const int i = s.learning_about(l->assumption_id()); i >= 0) {
        // Evidence erased with its data subject ("[erased]") is not a different learning: an
        // agent re-running the step after an erasure records nothing new.
        v1::LearningRecorded held = s.learnings[i];
        if (withheld(held.evidence())) held.set_evidence(l->evidence());
        if (google::protobuf::util::MessageDifferencer::Equals(*l, held)) return Events{};
        l->set_corrects_event_id(s.learning_event_ids[i]);
        l->set_corrected_result(s.learnings[i].result());
        to_timestamp(s.learning_dates[i], first.mutable_occurred_at());
      }
      return out;
    }
    default:
      return Status::invalid("'" + c.type() + "' is not a deal command");
  }
}

}  // namespace leanos
