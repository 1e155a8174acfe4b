#include "tools/bridge/reconcile.h"

#include "events/time.h"

namespace leanos::bridge {

namespace {

Known held(std::string differs = "") { return Known{true, std::move(differs)}; }

std::string day(std::int64_t micros) { return format_date(micros); }

// A stage the deal has reached: held, and whether it was reached on the file's date.
Known stage(std::int64_t reached_at, const Envelope& fact, const char* name, Micros fallback) {
  if (!reached_at) return {};
  const Micros at = from_timestamp(fact.occurred_at());
  if (at != fallback && day(reached_at) != day(at))
    return held(std::string(name) + " dated " + day(at) + " in the file, " + day(reached_at) + " in the ledger");
  return held();
}

}  // namespace

Known known_in_ledger(const v1::LedgerView& ledger, const Envelope& fact, Micros fallback) {
  switch (fact.payload_case()) {
    case Envelope::kAssumptionRegistered: {
      const auto it = ledger.assumptions().find(fact.assumption_registered().assumption_id());
      if (it == ledger.assumptions().end()) return {};
      if (it->second.statement() != fact.assumption_registered().statement())
        return held("the statement reads '" + fact.assumption_registered().statement() + "' in the file, '" +
                    it->second.statement() + "' in the ledger");
      return held();
    }
    case Envelope::kGoalDefined: return ledger.goals().count(fact.goal_defined().goal_id()) ? held() : Known{};
    case Envelope::kSubgoalDefined: {
      const auto it = ledger.goals().find(fact.subgoal_defined().goal_id());
      if (it == ledger.goals().end()) return {};
      for (const auto& sg : it->second.subgoals())
        if (sg.id() == fact.subgoal_defined().subgoal_id()) return held();
      return {};
    }
    default: break;
  }
  const std::string id = deal_id_of(fact);
  const auto it = id.empty() ? ledger.deals().end() : ledger.deals().find(id);
  if (it == ledger.deals().end()) return {};
  const v1::DealView& d = it->second;
  auto action = [&](const std::string& type) -> const v1::ActionView* {
    const auto a = d.actions().find(type);
    return a == d.actions().end() ? nullptr : &a->second;
  };
  switch (fact.payload_case()) {
    case Envelope::kLeadCaptured: return stage(d.lead_at(), fact, "the lead", fallback);
    case Envelope::kHypothesisStated: {
      Known k = stage(d.hypothesis_at(), fact, "the hypothesis", fallback);
      if (k.held && k.differs.empty() && d.assumption_id() != fact.hypothesis_stated().assumption_id())
        k.differs = "the hypothesis tests " + fact.hypothesis_stated().assumption_id() + " in the file, " + d.assumption_id() + " in the ledger";
      return k;
    }
    case Envelope::kImplicationAssessed: return stage(d.implication_at(), fact, "the implication", fallback);
    case Envelope::kDecisionMade: {
      // A deferred deal decided again (DEFER parks it; a new decision re-opens it): new.
      if (d.verdict() == v1::DEFER && fact.decision_made().verdict() != v1::DEFER &&
          from_timestamp(fact.occurred_at()) > d.decision_at())
        return {};
      Known k = stage(d.decision_at(), fact, "the decision", fallback);
      if (k.held && k.differs.empty() && d.verdict() != fact.decision_made().verdict())
        k.differs = "the verdict is " + v1::Verdict_Name(fact.decision_made().verdict()) + " in the file, " +
                    v1::Verdict_Name(d.verdict()) + " in the ledger";
      return k;
    }
    case Envelope::kDecisionApproved: return d.approved() ? held() : Known{};
    case Envelope::kActionPlanned: return action(fact.action_planned().action()) ? held() : Known{};
    case Envelope::kActionStarted: {
      const auto* a = action(fact.action_started().action());
      return a && a->started_at() ? held() : Known{};
    }
    case Envelope::kActionCompleted: {
      const auto* a = action(fact.action_completed().action());
      if (!a || a->status() != v1::ACTION_COMPLETED) return {};
      if (a->result() != fact.action_completed().result())
        return held(fact.action_completed().action() + " ended " + fact.action_completed().result() + " in the file, " + a->result() +
                    " in the ledger");
      return held();
    }
    case Envelope::kActionBlocked: {
      const auto* a = action(fact.action_blocked().action());
      return a && (a->status() == v1::ACTION_BLOCKED || a->status() == v1::ACTION_COMPLETED) ? held() : Known{};
    }
    case Envelope::kDealClosed: {
      if (d.outcome() == v1::OUTCOME_UNSPECIFIED) return {};
      if (d.outcome() != fact.deal_closed().outcome())
        return held("the outcome is " + v1::Outcome_Name(fact.deal_closed().outcome()) + " in the file, " + v1::Outcome_Name(d.outcome()) +
                    " in the ledger");
      return held();
    }
    case Envelope::kLearningRecorded: return stage(d.learning_at(), fact, "the learning", fallback);
    default: return {};
  }
}

}  // namespace leanos::bridge
