#include "projections/ledger.h"

#include "events/domain.h"
#include "events/ids.h"
#include "events/rules.h"
#include "events/thread.h"
#include "projections/goals.h"
#include "projections/metrics.h"


#include <algorithm>
#include <optional>
#include <set>

namespace leanos::projections {

namespace {

Stage stage_of(const v1::DealView& d) {
  return leanos::stage_of({.input = true,
                                      .hypothesis = d.hypothesis_at() != 0,
                                      .implication = d.implication_at() != 0,
                                      .decision = d.decision_at() != 0,
                                      .actions = !d.actions().empty(),
                                      .learning = d.outcome() != v1::OUTCOME_UNSPECIFIED || d.learning_at() != 0});
}

v1::ActionView& action(v1::DealView& d, const std::string& type, std::int64_t at) {
  auto& a = (*d.mutable_actions())[type];
  a.set_changed_at(at);
  return a;
}

// What one deal adds to the pipeline's sums and counts.
v1::Aggregates contribution(const v1::DealView& d) {
  v1::Aggregates a;
  if (!d.lead_at()) return a;
  const bool won = d.outcome() == v1::WON, lost = d.outcome() == v1::LOST;
  a.set_deals(1);
  a.set_open(d.outcome() == v1::OUTCOME_UNSPECIFIED || d.outcome() == v1::STALLED);
  a.set_stalled(d.outcome() == v1::STALLED);
  if (d.first_action_at()) {
    a.set_response_micros(d.first_action_at() - d.lead_at());
    a.set_responses(1);
  }
  if (d.qualify_at()) {
    a.set_qualification_micros(d.qualify_at() - d.lead_at());
    a.set_qualifications(1);
  }
  if (d.outcome() != v1::OUTCOME_UNSPECIFIED && d.has_cost()) {
    a.set_costs(d.cost());
    a.set_costed(1);
  }
  if (d.qualified()) {
    a.set_qualified(1);
    a.set_demos(d.demo_started_at() != 0);
    a.set_won(won);
    a.set_lost(lost);
  }
  auto pilot = d.actions().find("sales:pilot");
  if (pilot != d.actions().end() && pilot->second.started_at() && (won || lost)) {  // a pilot still running is no failure
    a.set_pilots(1);
    a.set_pilots_won(won);
  }
  if (won) {
    a.set_mrr(d.mrr());
    a.set_arr(d.arr());
    a.set_cycle_days(d.cycle_days());
    a.set_one_off(d.one_off());
    if (d.has_margin_pct()) {
      a.set_margin_pct(d.margin_pct());
      a.set_margins(1);
    }
  }
  return a;
}

void add(v1::Aggregates& to, const v1::Aggregates& x, int sign) {
  to.set_deals(to.deals() + sign * x.deals());
  to.set_open(to.open() + sign * x.open());
  to.set_qualified(to.qualified() + sign * x.qualified());
  to.set_won(to.won() + sign * x.won());
  to.set_lost(to.lost() + sign * x.lost());
  to.set_stalled(to.stalled() + sign * x.stalled());
  to.set_demos(to.demos() + sign * x.demos());
  to.set_pilots(to.pilots() + sign * x.pilots());
  to.set_pilots_won(to.pilots_won() + sign * x.pilots_won());
  to.set_mrr(to.mrr() + sign * x.mrr());
  to.set_arr(to.arr() + sign * x.arr());
  to.set_costs(to.costs() + sign * x.costs());
  to.set_cycle_days(to.cycle_days() + sign * x.cycle_days());
  to.set_margin_pct(to.margin_pct() + sign * x.margin_pct());
  to.set_response_micros(to.response_micros() + sign * x.response_micros());
  to.set_responses(to.responses() + sign * x.responses());
  to.set_qualification_micros(to.qualification_micros() + sign * x.qualification_micros());
  to.set_qualifications(to.qualifications() + sign * x.qualifications());
  to.set_margins(to.margins() + sign * x.margins());
  to.set_costed(to.costed() + sign * x.costed());
  to.set_one_off(to.one_off() + sign * x.one_off());
}

bool same(const v1::Aggregates& a, const v1::Aggregates& b) {
  return a.deals() == b.deals() &&
         a.open() == b.open() &&
         a.qualified() == b.qualified() &&
         a.won() == b.won() &&
         a.lost() == b.lost() &&
         a.stalled() == b.stalled() &&
         a.demos() == b.demos() &&
         a.pilots() == b.pilots() &&
         a.pilots_won() == b.pilots_won() &&
         a.mrr() == b.mrr() &&
         a.arr() == b.arr() &&
         a.costs() == b.costs() &&
         a.cycle_days() == b.cycle_days() &&
         a.margin_pct() == b.margin_pct() &&
         a.response_micros() == b.response_micros() &&
         a.responses() == b.responses() &&
         a.qualification_micros() == b.qualification_micros() &&
         a.qualifications() == b.qualifications() &&
         a.margins() == b.margins() &&
         a.costed() == b.costed() &&
         a.one_off() == b.one_off();
}

// Every combination of the deal's goal, segment and campaign (those it has), all deals too:
// a metric filtered by any of them is then a lookup, at any date, with no deal in memory.
std::vector<std::string> dimensions(const v1::DealView& d) {
  std::vector<std::string> keys;
  keys.reserve(8);
  for (int mask = 0; mask < 8; ++mask) {
    if (((mask & 1) && d.goal_id().empty()) || ((mask & 2) && d.segment().empty()) || ((mask & 4) && d.campaign_id().empty()))
      continue;
    keys.push_back(aggregates_key(mask & 1 ? d.goal_id() : "", mask & 2 ? d.segment() : "", mask & 4 ? d.campaign_id() : ""));
  }
  return keys;
}

void fold_deal_state(v1::DealView& d, const std::string& id, const Envelope& e, std::int64_t at);

void fold_deal(LedgerView& v, const Envelope& e, std::int64_t at) {
  const std::string id = deal_id_of(e);
  if (id.empty()) return;
  auto& d = (*v.mutable_deals())[id];  // one lookup; a deal seen before has its id set
  const bool known = !d.deal_id().empty();
  const v1::Aggregates before = known ? contribution(d) : v1::Aggregates();
  // Its dimensions are its lead's: a corrected lead may move it to another segment.
  const std::vector<std::string> dimensions_before = known && e.has_lead_captured() ? dimensions(d) : std::vector<std::string>();
  fold_deal_state(d, id, e, at);
  // A late input's record changes with the lead (company, dates) and the implication
  // (priority) only: other steps of the deal leave it, and cost no lookup on replay.
  if ((e.has_lead_captured() || e.has_implication_assessed()) && late_input(d)) {
    auto& l = (*v.mutable_late_inputs())[id];
    l.set_name(d.company().empty() ? id : d.company());
    l.set_lead_at(d.lead_at());
    l.set_recorded_at(d.lead_recorded_at());
    l.set_priority(d.priority());
  }
  const auto after = contribution(d);
  if (known && dimensions_before.empty() && same(before, after)) return;  // most action steps change no sum or count
  // A deal's dimensions (segment, goal, campaign) are its lead's.
  const auto now = dimensions(d);
  if (known)
    for (const auto& k : dimensions_before.empty() ? now : dimensions_before) add((*v.mutable_aggregates())[k], before, -1);
  for (const auto& k : now) add((*v.mutable_aggregates())[k], after, +1);
}

void fold_deal_state(v1::DealView& d, const std::string& id, const Envelope& e, std::int64_t at) {
  if (d.deal_id().empty()) d.set_deal_id(id);
  d.set_last_event_at(std::max(d.last_event_at(), at));
  // A correction replaces the fact's values where it stands; what followed the fact stays.
  const bool correction = !e.corrects_event_id().empty();
  if (correction) d.set_corrections(d.corrections() + 1);
  switch (e.payload_case()) {
    case Envelope::kLeadCaptured: {
      const auto& l = e.lead_captured();  // a correction keeps its goal, subgoal and campaign (the rules)
      d.set_company(l.company());
      d.set_segment(l.segment());
      d.set_source(l.source());
      d.set_channel(l.channel());
      d.set_goal_id(l.goal_id());
      d.set_subgoal_id(l.subgoal_id());
      d.set_campaign_id(l.campaign_id());
      d.set_attribution(l.attribution());
      if (correction) break;  // recorded later, it is no late input: the lead's record stays
      d.set_lead_at(at);
      d.set_lead_recorded_at(from_timestamp(e.recorded_at()));
      break;
    }
    case Envelope::kHypothesisStated:
      d.set_hypothesis_at(at);
      d.set_assumption_id(e.hypothesis_stated().assumption_id());
      d.set_hypothesis_confidence(e.hypothesis_stated().confidence());
      break;
    case Envelope::kImplicationAssessed:
      d.set_implication_at(at);
      d.set_priority(e.implication_assessed().priority());
      d.set_arr_low(e.implication_assessed().arr_low());
      d.set_arr_high(e.implication_assessed().arr_high());
      break;
    case Envelope::kDecisionMade: {
      const auto& m = e.decision_made();  // a correction keeps its verdict (the rules) and its date
      d.set_decision_at(at);
      d.set_verdict(m.verdict());
      d.set_impact(m.impact());
      d.set_approval_required(m.approval_required());
      if (correction) break;  // and its approval
      d.set_approved(false);
      d.set_decision_actor(e.actor());
      if (m.verdict() == v1::QUALIFY) {
        d.set_qualified(true);
        if (!d.qualify_at()) d.set_qualify_at(at);
      }
      break;
    }
    case Envelope::kDecisionApproved: d.set_approved(true); break;
    case Envelope::kActionPlanned: {
      auto& a = action(d, e.action_planned().action(), at);
      a.set_status(action_status_after(e.payload_case()));
      a.set_planned_at(at);
      a.set_human_required(e.action_planned().human_required());
      break;
    }
    case Envelope::kActionStarted: {
      const auto& type = e.action_started().action();
      auto& a = action(d, type, at);
      if (!a.planned_at()) a.set_human_required(action_needs_human(type));
      a.set_status(action_status_after(e.payload_case()));
      a.set_started_at(at);
      a.clear_result();
      if (!d.first_action_at()) d.set_first_action_at(at);
      if (type == "sales:demo" && !d.demo_started_at()) d.set_demo_started_at(at);
      break;
    }
    case Envelope::kActionCompleted: {
      auto& a = action(d, e.action_completed().action(), at);
      a.set_status(action_status_after(e.payload_case()));
      a.set_completed_at(at);
      a.set_result(e.action_completed().result());
      break;
    }
    case Envelope::kActionBlocked: action(d, e.action_blocked().action(), at).set_status(action_status_after(e.payload_case())); break;
    case Envelope::kActionUnblocked: action(d, e.action_unblocked().action(), at).set_status(action_status_after(e.payload_case())); break;
    case Envelope::kQualificationScored: break;
    case Envelope::kDealClosed: {
      const auto& c = e.deal_closed();
      d.set_outcome(c.outcome());
      d.set_outcome_at(at);
      d.set_arr(c.arr());
      d.set_mrr(c.mrr());
      if (c.has_cost()) d.set_cost(c.cost());
      else d.clear_cost();
      d.set_cycle_days(c.cycle_days());
      if (c.has_margin_pct()) d.set_margin_pct(c.margin_pct());
      else d.clear_margin_pct();
      d.set_one_off(c.one_off());
      d.set_satisfaction(c.satisfaction());  // not the reason: free text, sealed (the folds read no personal field)
      break;
    }
    case Envelope::kLearningRecorded: {
      const auto& l = e.learning_recorded();
      if (l.result() == v1::VALIDATED) d.set_validated_hypothesis(true);
      else if (!l.corrects_event_id().empty() && l.corrected_result() == v1::VALIDATED && l.assumption_id() == d.assumption_id())
        d.set_validated_hypothesis(false);  // the validation it replaces no longer holds
      if (!l.corrects_event_id().empty()) d.set_corrections(d.corrections() + 1);
      d.set_learning_at(std::max(d.learning_at(), at));
      break;
    }
    default: break;
  }
  if (const Stage stage = stage_of(d); d.stage() != stage) {
    d.set_stage(stage);
    d.set_stage_entered_at(at);
  }
}

// An assumption takes a new confidence and status; the change is counted and kept as the last.
// `e` is the fact that caused it; the change's event id is the one the canvas's process
// manager records it under.
void change_assumption(v1::AssumptionView& view, const Envelope& e, std::int64_t at, int confidence,
                       v1::AssumptionStatus status, const std::string& deal_id, const std::string& event_id) {
  const int previous = view.confidence();
  view.set_confidence(confidence);
  view.set_status(status);
  view.set_changes(view.changes() + 1);
  auto* p = view.mutable_last_change();
  p->Clear();
  p->set_position(e.position());
  p->set_occurred_at(at);
  p->set_previous(previous);
  p->set_confidence(confidence);
  p->set_status(status);
  p->set_deal_id(deal_id);
  p->set_event_id(event_id);
  p->set_cause_event_id(event_id == e.event_id() ? e.causation_id() : e.event_id());  // a derived change: its fact
  p->set_actor(e.actor());
}

// A deal's case study on an assumption stops (or starts again) being one to act on when its
// learning is corrected away from VALIDATED (or back to it).
void withdraw_case_study(LedgerView& v, const v1::LearningRecorded& l, bool withdrawn) {
  for (auto& o : *v.mutable_opportunities())
    if (case_study_of(o, l.deal_id(), l.assumption_id())) o.set_withdrawn(withdrawn);
}

void fold_canvas(LedgerView& v, const Envelope& e, std::int64_t at) {
  switch (e.payload_case()) {
    case Envelope::kAssumptionRegistered: {
      const auto& a = e.assumption_registered();
      auto& view = (*v.mutable_assumptions())[a.assumption_id()];
      view.set_id(a.assumption_id());
      view.set_statement(a.statement());
      change_assumption(view, e, at, a.confidence(), v1::UNTESTED, "", e.event_id());
      break;
    }
    case Envelope::kAssumptionRevised: {
      const auto& r = e.assumption_revised();
      auto it = v.mutable_assumptions()->find(r.assumption_id());
      if (it == v.mutable_assumptions()->end()) break;
      auto& a = it->second;
      change_assumption(a, e, at, r.confidence(), r.status() != v1::ASSUMPTION_STATUS_UNSPECIFIED ? r.status() : a.status(), "",
                        e.event_id());
      break;
    }
    case Envelope::kHypothesisStated: {
      auto it = v.mutable_assumptions()->find(e.hypothesis_stated().assumption_id());
      if (it != v.mutable_assumptions()->end() && it->second.status() == v1::UNTESTED) it->second.set_status(v1::TESTING);
      break;
    }
    case Envelope::kLearningRecorded: {
      const auto& l = e.learning_recorded();
      auto it = v.mutable_assumptions()->find(l.assumption_id());
      if (it == v.mutable_assumptions()->end()) break;
      auto& a = it->second;
      int base = a.confidence();
      if (l.corrects_event_id().empty()) {
        a.set_evidence_count(a.evidence_count() + 1);
      } else {
        // A correction replaces the learning it corrects (dated the same, folded right after
        // it): the same deal is still one piece of evidence, and the confidence moves on
        // from where it stood before the replaced learning. Should another change of the
        // assumption sit between the two (the same instant), the replaced learning's own
        // step is taken back instead.
        if (l.corrected_result() == v1::VALIDATED) a.set_agreeing(a.agreeing() - 1);
        const auto& last = a.last_change();
        if (last.event_id() == derived_event_id(l.corrects_event_id(), kConfidenceRule)) base = last.previous();
        else if (l.corrected_result() == v1::VALIDATED) base = std::max(0, base - 10);
        else if (l.corrected_result() == v1::PARTIAL) base = std::min(100, base + 10);
        withdraw_case_study(v, l, l.result() != v1::VALIDATED);
      }
      if (l.result() == v1::VALIDATED) a.set_agreeing(a.agreeing() + 1);
      if (const auto change = confidence_after(base, l))
        change_assumption(a, e, at, change->confidence, change->status, l.deal_id(),
                          derived_event_id(e.event_id(), kConfidenceRule));
      break;
    }
    case Envelope::kDealClosed:
      if (e.deal_closed().outcome() == v1::WON || !e.corrects_event_id().empty())
        for (const auto& [metric, value] : canvas_metrics(pipeline_metrics(v))) (*v.mutable_canvas_metrics())[metric] = value;
      break;
    default: break;  // confidence changes and canvas metrics are derived here, not read from records
  }
}

void fold_marketing(LedgerView& v, const Envelope& e, std::int64_t at) {
  switch (e.payload_case()) {
    case Envelope::kContentOpportunityFlagged: {
      const auto& f = e.content_opportunity_flagged();
      // Kept in business-time order (then event id), whatever order they were folded in.
      auto* list = v.mutable_opportunities();
      int at_index = list->size();
      while (at_index > 0 && std::make_pair(list->Get(at_index - 1).flagged_at(), std::string_view(list->Get(at_index - 1).event_id())) >
                                 std::make_pair(at, std::string_view(e.event_id())))
        --at_index;
      auto* o = list->Add();
      o->set_topic(f.topic());
      o->set_priority(f.priority());
      o->set_kind(f.kind());
      *o->mutable_caused_by() = f.caused_by();
      o->set_assumption_id(f.assumption_id());
      o->set_segment(f.segment());
      o->set_flagged_at(at);
      o->set_event_id(e.event_id());
      o->set_cause_event_id(e.causation_id());
      for (int i = list->size() - 1; i > at_index; --i) list->SwapElements(i, i - 1);
      break;
    }
    case Envelope::kContentOpportunityActed:
      for (auto& o : *v.mutable_opportunities())
        if (o.topic() == e.content_opportunity_acted().topic()) o.set_acted(true);
      break;
    case Envelope::kMaterialFeedback: {
      auto& f = (*v.mutable_material_feedback())[e.material_feedback().kind()];
      f.set_total(f.total() + 1);
      if (e.material_feedback().positive()) f.set_positive(f.positive() + 1);
      break;
    }
    case Envelope::kSettingChanged:
      if (e.setting_changed().key() == "approval-threshold")
        v.set_approval_threshold(std::strtod(e.setting_changed().value().c_str(), nullptr));
      break;
    default: break;
  }
}

void fold_campaign(LedgerView& v, const Envelope& e) {
  auto view = [&](const std::string& id) -> v1::CampaignCounts& {
    auto& c = (*v.mutable_campaigns())[id];
    c.set_campaign_id(id);
    return c;
  };
  switch (e.payload_case()) {
    case Envelope::kCampaignOpened: {
      auto& c = view(e.campaign_opened().campaign_id());
      c.set_segment(e.campaign_opened().segment());
      c.set_goal_id(e.campaign_opened().goal_id());
      c.set_opened_at(from_timestamp(e.occurred_at()));
      break;
    }
    case Envelope::kCampaignDecisionMade: view(e.campaign_decision_made().campaign_id()).set_verdict(e.campaign_decision_made().verdict()); break;
    case Envelope::kProspectAdded: { auto& c = view(e.prospect_added().campaign_id()); c.set_prospects(c.prospects() + 1); break; }
    case Envelope::kContactAdded: { auto& c = view(e.contact_added().campaign_id()); c.set_contacts(c.contacts() + 1); break; }
    case Envelope::kOutreachSent: { auto& c = view(e.outreach_sent().campaign_id()); c.set_sent(c.sent() + 1); break; }
    case Envelope::kResponseReceived: {
      auto& c = view(e.response_received().campaign_id());
      c.set_responses(c.responses() + 1);
      if (response_kind(e.response_received()) == v1::RESPONSE_INTERESTED) c.set_interested(c.interested() + 1);
      break;
    }
    case Envelope::kProspectConverted: { auto& c = view(e.prospect_converted().campaign_id()); c.set_conversions(c.conversions() + 1); break; }
    default: break;
  }
}

// A segment's ICP and narrative in force: the latest by business time.
void fold_segment(LedgerView& v, const Envelope& e, std::int64_t at) {
  auto view = [&](const std::string& segment) -> v1::SegmentStrategy& {
    auto& s = (*v.mutable_segments())[segment];
    s.set_segment(segment);
    return s;
  };
  if (e.has_icp_defined()) {
    auto& s = view(e.icp_defined().segment());
    *s.mutable_icp() = e.icp_defined();
    s.set_icp_at(at);
  } else if (e.has_narrative_written()) {
    auto& s = view(e.narrative_written().segment());
    *s.mutable_narrative() = e.narrative_written();
    s.set_narrative_at(at);
  }
}

// The version of a document in force: its place in the log (the text stays there). The
// latest by business time (then position) wins whatever the order folded: see order_free().
void fold_document(LedgerView& v, const Envelope& e, std::int64_t at) {
  if (!e.has_document_written()) return;
  auto& d = (*v.mutable_documents())[e.document_written().path()];
  d.set_versions(d.versions() + 1);
  if (d.versions() > 1 && std::make_pair(at, e.position()) < std::make_pair(d.written_at(), d.position())) return;
  d.set_position(e.position());
  d.set_written_at(at);
  d.set_event_id(e.event_id());
  d.set_removed(e.document_written().removed());
}

}  // namespace

LedgerView empty_ledger() {
  LedgerView v;
  v.set_approval_threshold(0.8);
  return v;
}

void apply(LedgerView& v, const Envelope& e) {
  const std::int64_t at = from_timestamp(e.occurred_at());
  // Folded in business-time order, a late event can come after a later position.
  v.set_position(std::max(v.position(), e.position()));
  v.set_events(v.events() + 1);
  v.set_max_occurred_at(std::max(v.max_occurred_at(), at));
  if (v.min_occurred_at() == 0 || at < v.min_occurred_at()) v.set_min_occurred_at(at);
  if (const std::int64_t recorded = from_timestamp(e.recorded_at()); recorded) {
    if (v.min_recorded_at() == 0 || recorded < v.min_recorded_at()) v.set_min_recorded_at(recorded);
    v.set_max_recorded_at(std::max(v.max_recorded_at(), recorded));
  }
  // A corrected close: the one it replaces, as its deal holds it before the correction.
  const auto replaced = e.has_deal_closed() && !e.corrects_event_id().empty()
                            ? std::optional<v1::DealClosed>(close_in_force(v, e.deal_closed().deal_id()))
                            : std::nullopt;
  fold_deal(v, e, at);
  fold_goal(v, e, at, replaced ? &*replaced : nullptr);
  fold_canvas(v, e, at);
  fold_marketing(v, e, at);
  fold_campaign(v, e);
  fold_document(v, e, at);
  fold_segment(v, e, at);
}

bool order_free(const Envelope& e) {
  // Besides the fold of documents, these touch only the view's counters (events, positions,
  // times: sums, minima and maxima).
  return e.has_document_written() || e.has_file_version() || e.has_file_content() || e.has_source_imported();
}

bool case_study_of(const v1::OpportunityView& o, const std::string& deal_id, const std::string& assumption_id) {
  return o.kind() == "case-study" && o.assumption_id() == assumption_id &&
         std::find(o.caused_by().begin(), o.caused_by().end(), deal_id) != o.caused_by().end();
}

bool late_input(const v1::DealView& d) {
  return d.lead_at() && d.lead_recorded_at() - d.lead_at() > deadline::kInputRecordedHours * kMicrosPerHour;
}

bool late_input_shown(const v1::LateInput& l, std::int64_t now) {
  return now - l.lead_at() < deadline::kLateInputShownDays * kMicrosPerDay;
}

std::string goal_segment_key(const std::string& goal, const std::string& segment) {
  return "goal:" + goal + "/segment:" + segment;
}

std::string aggregates_key(std::string_view goal, std::string_view segment, std::string_view campaign) {
  std::string key;
  auto part = [&key](const char* name, std::string_view value) {
    if (value.empty()) return;
    if (!key.empty()) key += '/';
    key += name;
    key += value;
  };
  part("goal:", goal);
  part("segment:", segment);
  part("campaign:", campaign);
  return key;
}

v1::DealView rebuild_deal(const std::vector<Envelope>& events) {
  std::vector<const Envelope*> timeline;
  for (const auto& e : events) timeline.push_back(&e);
  std::sort(timeline.begin(), timeline.end(), [](const Envelope* a, const Envelope* b) { return occurs_before(*a, *b); });
  LedgerView scratch;
  for (const auto* e : timeline) apply(scratch, *e);
  if (scratch.deals().empty()) return {};
  return scratch.deals().begin()->second;
}

}  // namespace leanos::projections
