#include "tools/bridge/reconcile.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "events/ids.h"
#include "events/text.h"
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

// A campaign's stage reached (its view's date set): held, and whether on the file's date.
Known campaign_stage(const google::protobuf::Timestamp& reached, bool has, const Envelope& fact, const char* name, Micros fallback) {
  return has ? stage(from_timestamp(reached), fact, name, fallback) : Known{};
}

Known known_in_campaign(const v1::CampaignView& c, const Envelope& fact, Micros fallback) {
  auto listed = [&](const auto& list, auto same) {
    for (const auto& entry : list)
      if (same(entry)) return held();
    return Known{};
  };
  switch (fact.payload_case()) {
    case Envelope::kCampaignOpened: return campaign_stage(c.opened_at(), c.has_opened_at(), fact, "the campaign's input", fallback);
    case Envelope::kCampaignHypothesisStated:
      return campaign_stage(c.hypothesis_at(), c.has_hypothesis_at(), fact, "the campaign's hypothesis", fallback);
    case Envelope::kCampaignImplicationAssessed:
      return campaign_stage(c.implication_at(), c.has_implication_at(), fact, "the campaign's implication", fallback);
    case Envelope::kCampaignDecisionMade: {
      Known k = campaign_stage(c.decision_at(), c.has_decision_at(), fact, "the campaign's decision", fallback);
      if (k.held && k.differs.empty() && c.decision().verdict() != fact.campaign_decision_made().verdict())
        k.differs = "the verdict is " + v1::Verdict_Name(fact.campaign_decision_made().verdict()) + " in the file, " +
                    v1::Verdict_Name(c.decision().verdict()) + " in the ledger";
      return k;
    }
    case Envelope::kOutreachSequenceDefined: return c.has_sequence() ? held() : Known{};
    case Envelope::kCampaignResultsRecorded:
      return campaign_stage(c.results_at(), c.has_results_at(), fact, "the campaign's results", fallback);
    case Envelope::kProspectAdded:
      return listed(c.prospect_list(), [&](const v1::CampaignEntry& e) { return lower(e.prospect().company()) == lower(fact.prospect_added().company()); });
    case Envelope::kContactAdded:
      return listed(c.contact_list(), [&](const v1::CampaignEntry& e) {
        return lower(e.contact().contact().email()) == lower(fact.contact_added().contact().email());
      });
    case Envelope::kOutreachSent:
      return listed(c.outreach(), [&](const v1::CampaignEntry& e) {
        return lower(e.sent().email()) == lower(fact.outreach_sent().email()) && e.sent().step() == fact.outreach_sent().step();
      });
    case Envelope::kResponseReceived:
      return listed(c.response_list(), [&](const v1::CampaignEntry& e) {
        return lower(e.response().email()) == lower(fact.response_received().email()) && response_kind(e.response()) == response_kind(fact.response_received());
      });
    default: return {};
  }
}

}  // namespace

namespace {

std::string quoted(const std::string& v) { return "'" + v + "'"; }
std::string money_text(std::int64_t v) { return "$" + std::to_string(v); }
std::string number_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// What a stage file states that its recorded stage holds otherwise, field by field, each
// with both values ("" when they agree). Only what the file states is compared: a field it
// leaves out, names unknown, or that the reader filled in itself (a reason "as decided in
// FILE", an impact taken from the priority) is not a rewrite; a personal field the ledger
// withholds (erased, locked) cannot be compared.
std::string rewritten_fields(const v1::DealThreadView& t, const Envelope& fact) {
  std::vector<std::string> out;
  auto text = [&](const char* name, const std::string& file, const std::string& ledger) {
    if (!file.empty() && !withheld(ledger) && file != ledger) out.push_back(std::string(name) + " " + quoted(file) + " in the file, " + quoted(ledger) + " in the ledger");
  };
  auto number = [&](const char* name, double file, double ledger, bool stated, std::string (*show)(double)) {
    if (stated && std::abs(file - ledger) > 1e-9) out.push_back(std::string(name) + " " + show(file) + " in the file, " + show(ledger) + " in the ledger");
  };
  auto as_money = +[](double v) { return money_text(static_cast<std::int64_t>(v)); };
  auto as_number = +[](double v) { return number_text(v); };
  auto unknown = [](const auto& list, const char* name) { return std::find(list.begin(), list.end(), name) != list.end(); };
  switch (fact.payload_case()) {
    case Envelope::kLeadCaptured: {
      const auto& f = fact.lead_captured();
      const auto& l = t.input();
      text("company", f.company(), l.company());
      if (!unknown(f.unknown(), "segment")) text("segment", f.segment(), l.segment());
      if (!unknown(f.unknown(), "contact")) text("contact", f.contact().name(), l.contact().name());
      if (!unknown(f.unknown(), "email")) text("e-mail", f.contact().email(), l.contact().email());
      break;
    }
    case Envelope::kHypothesisStated:
      number("confidence", fact.hypothesis_stated().confidence(), t.hypothesis().confidence(), true, as_number);
      break;
    case Envelope::kImplicationAssessed: {
      const auto& f = fact.implication_assessed();
      const auto& l = t.implication();
      number("ARR low", static_cast<double>(f.arr_low()), static_cast<double>(l.arr_low()), true, as_money);
      number("ARR high", static_cast<double>(f.arr_high()), static_cast<double>(l.arr_high()), true, as_money);
      if (!unknown(f.unknown(), "strategic") && f.strategic() != l.strategic())
        out.push_back("strategic value " + v1::StrategicValue_Name(f.strategic()) + " in the file, " + v1::StrategicValue_Name(l.strategic()) +
                      " in the ledger");
      number("priority", f.priority(), l.priority(), true, as_number);
      break;
    }
    case Envelope::kDecisionMade: {
      const auto& f = fact.decision_made();
      const auto& l = t.decision();
      if (f.reason().rfind("as decided in ", 0) != 0) text("reason", f.reason(), l.reason());
      number("impact", f.impact(), l.impact(), f.impact() >= 0, as_number);
      break;
    }
    case Envelope::kDealClosed: {
      const auto& f = fact.deal_closed();
      const auto& l = t.outcome();
      number("ARR", static_cast<double>(f.arr()), static_cast<double>(l.arr()), f.arr() > 0, as_money);
      number("MRR", static_cast<double>(f.mrr()), static_cast<double>(l.mrr()), f.mrr() > 0, as_money);
      break;
    }
    case Envelope::kLearningRecorded: {
      const auto& f = fact.learning_recorded();
      for (const auto& l : t.learnings())
        if (l.assumption_id() == f.assumption_id()) {
          if (f.result() != l.result())
            out.push_back("the learning about " + f.assumption_id() + " is " + v1::LearningResult_Name(f.result()) + " in the file, " +
                          v1::LearningResult_Name(l.result()) + " in the ledger");
          if (f.has_confidence() && l.has_confidence()) number("its confidence", f.confidence(), l.confidence(), true, as_number);
          text("its evidence", f.evidence(), l.evidence());
        }
      break;
    }
    default: break;
  }
  std::string joined;
  for (const auto& o : out) joined += (joined.empty() ? "" : "; ") + o;
  return joined;
}

}  // namespace

Known known_stage(const Held& held_, const Envelope& fact, Micros fallback) {
  const v1::LedgerView& ledger = held_.ledger;
  if (const std::string campaign = campaign_id_of(fact); !campaign.empty()) {
    const auto it = held_.campaigns.find(campaign);
    return it == held_.campaigns.end() ? Known{} : known_in_campaign(it->second, fact, fallback);
  }
  switch (fact.payload_case()) {
    case Envelope::kIcpDefined: {
      // The ICP in force reads the same (its version aside: the ledger numbers them).
      const auto it = ledger.segments().find(fact.icp_defined().segment());
      if (it == ledger.segments().end() || !it->second.has_icp()) return {};
      v1::IcpDefined a = it->second.icp(), b = fact.icp_defined();
      a.clear_version(), b.clear_version();
      return google::protobuf::util::MessageDifferencer::Equals(a, b) ? held() : Known{};
    }
    case Envelope::kNarrativeWritten: {
      const auto it = ledger.segments().find(fact.narrative_written().segment());
      if (it == ledger.segments().end() || !it->second.has_narrative()) return {};
      const auto& n = it->second.narrative();
      const auto& f = fact.narrative_written();
      return n.problem() == f.problem() && n.solution() == f.solution() && n.specifics() == f.specifics() ? held() : Known{};
    }
    default: break;
  }
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

Known known_in_ledger(const Held& held_, const Envelope& fact, Micros fallback) {
  Known k = known_stage(held_, fact, fallback);
  if (k.held && k.differs.empty())
    if (const std::string id = deal_id_of(fact); !id.empty())
      if (const auto it = held_.deals.find(id); it != held_.deals.end()) k.differs = rewritten_fields(it->second, fact);
  return k;
}

Correction correction_of(const Held& held_, const Envelope& fact) {
  const std::string id = deal_id_of(fact);
  const auto it = id.empty() ? held_.deals.end() : held_.deals.find(id);
  if (it == held_.deals.end())
    return {std::nullopt, "a correction replaces a deal's fact; this one stays as the ledger recorded it"};
  const v1::DealThreadView& t = it->second;
  std::string in_force;
  switch (fact.payload_case()) {
    case Envelope::kLearningRecorded: return {fact, ""};  // recorded again: the rules correct the one it replaces
    case Envelope::kLeadCaptured: in_force = t.input_event_id(); break;
    case Envelope::kHypothesisStated: in_force = t.hypothesis_event_id(); break;
    case Envelope::kImplicationAssessed: in_force = t.implication_event_id(); break;
    case Envelope::kDecisionMade: in_force = t.decision_event_id(); break;
    case Envelope::kDealClosed: in_force = t.outcome_event_id(); break;
    case Envelope::kActionCompleted:
      for (const auto& a : t.actions())
        if (a.action() == fact.action_completed().action()) in_force = a.completed_event_id();
      break;
    default: break;
  }
  if (in_force.empty()) return {std::nullopt, "no correction replaces a recorded " + fact.type() + "; it stays as the ledger recorded it"};
  Envelope c = fact;
  c.set_corrects_event_id(in_force);
  c.clear_occurred_at();  // dated by the rules where the fact it replaces stands
  // The same rewrite read again corrects nothing twice: its id follows from what it replaces.
  c.set_event_id(derived_event_id(in_force, "leanos-import:correction"));
  return {std::move(c), ""};
}

}  // namespace leanos::bridge
