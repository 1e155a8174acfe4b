#include "projections/views.h"

#include <algorithm>
#include <set>
#include <cmath>

#include "events/domain.h"
#include "events/time.h"
#include "projections/daily.h"

namespace leanos::projections {

namespace {

// A time of 0 means "never": the field stays unset (calling mutable_x() would set it, and
// the JSON would say 1970-01-01).
template <class Message>
void set_time(Message* m, google::protobuf::Timestamp* (Message::*field)(), std::int64_t micros) {
  if (micros) to_timestamp(micros, (m->*field)());
}

std::string metric_name(v1::GoalMetric m) { return lower(v1::GoalMetric_Name(m)); }

}  // namespace

std::string assumption_status_name(v1::AssumptionStatus s) {
  return s == v1::ASSUMPTION_STATUS_UNSPECIFIED ? "UNKNOWN" : word(s);
}

namespace {

template <class Message>
void set_optional(const std::optional<double>& v, Message* m, void (Message::*setter)(double)) {
  if (v) (m->*setter)(*v);
}

void fill_items(const std::vector<QueueItem>& items, google::protobuf::RepeatedPtrField<v1::QueueItem>* out) {
  for (const auto& i : items) {
    auto* item = out->Add();
    item->set_kind(i.kind);
    item->set_id(i.deal_id);
    item->set_what(i.what);
    set_time(item, &v1::QueueItem::mutable_since, i.since);
  }
}

bool closed(const v1::DealView& d) { return d.outcome() == v1::WON || d.outcome() == v1::LOST; }

// A stage named "5-actions" matches the filter "actions", "5-actions" or "5".
bool stage_matches(const std::string& stage, const std::string& filter) {
  const auto dash = stage.find('-');
  return stage == filter || stage.substr(dash + 1) == filter || stage.substr(0, dash) == filter;
}

// The action under way: the last one in pipeline order not completed, with its status.
std::string action_under_way(const v1::DealView& d) {
  std::string action;
  for (const char* a : kSalesActions)
    if (auto it = d.actions().find(a); it != d.actions().end() && it->second.status() != v1::ACTION_COMPLETED)
      action = std::string(a) + " " + word(it->second.status());
  return action;
}

}  // namespace

v1::CanvasView canvas_view(const LedgerView& v) {
  v1::CanvasView out;
  out.set_position(v.position());
  for (const auto* entry : sorted(v.assumptions())) {
    const auto& [id, a] = *entry;
    auto* c = out.add_assumptions();
    c->set_id(id);
    c->set_statement(a.statement());
    c->set_status(a.status());
    c->set_confidence(a.confidence());
    c->set_evidence_count(a.evidence_count());
    if (a.evidence_count()) c->set_agreeing_share(static_cast<double>(a.agreeing()) / a.evidence_count());
    c->set_changes(a.changes());
  }
  const auto m = pipeline_metrics(v);
  auto* metrics = out.mutable_metrics();
  metrics->set_arr(m.arr);
  metrics->set_mrr(m.mrr);
  metrics->set_customers(m.customers);
  set_optional(m.avg_deal_size, metrics, &v1::CanvasMetrics::set_avg_deal_size);
  set_optional(m.avg_cycle_days, metrics, &v1::CanvasMetrics::set_avg_cycle_days);
  set_optional(m.win_rate, metrics, &v1::CanvasMetrics::set_win_rate);
  set_optional(m.avg_margin_pct, metrics, &v1::CanvasMetrics::set_avg_margin_pct);
  set_optional(m.cac, metrics, &v1::CanvasMetrics::set_cac);
  metrics->set_one_off(m.one_off);
  return out;
}

v1::GoalView goal_view(const LedgerView& v, const v1::GoalState& g, std::int64_t now) {
  v1::GoalView out;
  out.set_id(g.id());
  out.set_title(g.title());
  out.set_metric(metric_name(g.metric()));
  out.set_target(g.target());
  out.set_baseline(g.baseline());
  out.set_current(g.current());
  out.set_progress(g.target() ? static_cast<double>(g.current()) / static_cast<double>(g.target()) : 0.0);
  out.set_gap(std::max<std::int64_t>(0, g.target() - g.current()));
  out.set_met(g.met());
  set_time(&out, &v1::GoalView::mutable_met_at, g.met_at());
  set_time(&out, &v1::GoalView::mutable_defined_at, g.defined_at());
  if (g.due()) out.set_due(format_date(g.due()));
  for (const auto& sg : g.subgoals()) {
    auto* s = out.add_subgoals();
    s->set_id(sg.id());
    s->set_title(sg.title());
    s->set_metric(metric_name(sg.metric()));
    s->set_target(sg.target());
    s->set_current(sg.current());
    s->set_done(sg.done());
    *s->mutable_deals() = sg.deals();
  }
  for (const auto& p : g.history()) {
    auto* h = out.add_history();
    set_time(h, &v1::GoalValue::mutable_at, p.at());
    h->set_value(p.value());
    h->set_deal_id(p.deal_id());
  }
  for (const auto& m : g.milestones()) {
    auto* r = out.add_milestones();
    r->set_percent(m.percent());
    set_time(r, &v1::MilestoneReached::mutable_reached_at, m.reached_at());
    r->set_position(m.position());
  }
  const auto t = trajectory(g, now);
  auto* tr = out.mutable_trajectory();
  tr->set_progress(t.progress);
  tr->set_gap(t.gap);
  tr->set_rate_per_day(t.rate_per_day);
  if (t.days_remaining) tr->set_days_remaining(*t.days_remaining);
  if (t.projected) tr->set_projected(std::llround(*t.projected));  // dollars or customers: whole units
  tr->set_on_track(t.on_track);
  tr->set_risk(t.risk);
  for (const auto& sg : g.subgoals()) {
    auto* s = tr->add_subgoal_status();
    s->set_id(sg.id());
    s->set_status(subgoal_status(v, g, sg));
  }
  return out;
}

v1::MetricsView metrics_view(const LedgerView& v, const DealFilter& filter) {
  const auto m = pipeline_metrics(v, filter);
  v1::MetricsView out;
  set_optional(m.lead_response_hours, &out, &v1::MetricsView::set_lead_response_hours);
  set_optional(m.qualification_days, &out, &v1::MetricsView::set_qualification_days);
  set_optional(m.demo_booking_rate, &out, &v1::MetricsView::set_demo_booking_rate);
  set_optional(m.pilot_conversion, &out, &v1::MetricsView::set_pilot_conversion);
  set_optional(m.close_rate, &out, &v1::MetricsView::set_close_rate);
  set_optional(m.win_rate, &out, &v1::MetricsView::set_win_rate);
  set_optional(m.avg_deal_size, &out, &v1::MetricsView::set_avg_deal_size);
  set_optional(m.avg_cycle_days, &out, &v1::MetricsView::set_avg_cycle_days);
  set_optional(m.avg_margin_pct, &out, &v1::MetricsView::set_avg_margin_pct);
  set_optional(m.cac, &out, &v1::MetricsView::set_cac);
  set_optional(m.pitch_deck_approval, &out, &v1::MetricsView::set_pitch_deck_approval);
  set_optional(m.email_response_rate, &out, &v1::MetricsView::set_email_response_rate);
  set_optional(m.proposal_acceptance, &out, &v1::MetricsView::set_proposal_acceptance);
  out.set_mrr(m.mrr);
  out.set_arr(m.arr);
  out.set_customers(m.customers);
  out.set_deals(m.deals);
  out.set_open(m.open);
  out.set_qualified(m.qualified);
  out.set_won(m.won);
  out.set_lost(m.lost);
  out.set_one_off(m.one_off);
  out.set_margins_known(m.margins_known);
  out.set_costs_known(m.costs_known);
  out.set_closed(m.closed);
  // Each target, judged where the metric is known (the view's field of the target's name).
  const auto* reflection = out.GetReflection();
  for (const auto& t : metric_targets()) {
    auto* x = out.add_targets();
    x->set_metric(t.name);
    x->set_comparison(t.comparison);
    x->set_value(t.value);
    if (const auto* field = out.GetDescriptor()->FindFieldByName(t.name); field && reflection->HasField(out, field))
      x->set_met(t.met(reflection->GetDouble(out, field)));
  }
  return out;
}

v1::OpportunitiesView opportunities_view(const LedgerView& v) {
  v1::OpportunitiesView out;
  std::set<std::string> topics;  // a topic flagged twice (a learning recorded twice, before they were one) is one
  for (const auto& o : v.opportunities()) {
    if (o.withdrawn() || !topics.insert(o.topic()).second) continue;
    auto* x = out.add_opportunities();
    x->set_topic(o.topic());
    x->set_priority(o.priority());
    x->set_kind(o.kind());
    *x->mutable_caused_by() = o.caused_by();
    x->set_assumption_id(o.assumption_id());
    x->set_segment(o.segment());
    x->set_acted(o.acted());
    set_time(x, &v1::Opportunity::mutable_flagged_at, o.flagged_at());
  }
  return out;
}

v1::TodayView today_view(const LedgerView& v, std::int64_t now) {
  v1::TodayView out;
  set_time(&out, &v1::TodayView::mutable_as_of, now);
  set_time(&out, &v1::TodayView::mutable_first_event_at, v.min_occurred_at());
  set_time(&out, &v1::TodayView::mutable_last_event_at, v.max_occurred_at());
  set_time(&out, &v1::TodayView::mutable_first_recorded_at, v.min_recorded_at());
  set_time(&out, &v1::TodayView::mutable_last_recorded_at, v.max_recorded_at());
  for (const auto* entry : sorted(v.goals())) {
    const auto& g = entry->second;
    if (g.id().empty() || g.defined_at() > now) continue;
    *out.add_goals() = goal_view(v, g, now);
  }
  const auto q = work_queue(v, now);
  auto* queue = out.mutable_queue();
  fill_items(q.approvals, queue->mutable_approvals());
  fill_items(q.human_actions, queue->mutable_human_actions());
  fill_items(q.blocked, queue->mutable_blocked());
  fill_items(q.content, queue->mutable_content());
  fill_items(q.agent_decisions, queue->mutable_agent_decisions());
  fill_items(q.overdue, out.mutable_alerts()->mutable_overdue());
  fill_items(q.stalled, out.mutable_alerts()->mutable_stalled());
  for (const auto& r : recommendations(v, now)) {
    auto* rec = out.add_recommendations();
    rec->set_rule(r.rule);
    rec->set_action(r.action);
    rec->set_why(r.why);
  }
  out.set_approval_threshold(v.approval_threshold());
  return out;
}

v1::PipelineView pipeline_view(const LedgerView& v, std::int64_t now, const std::string& segment) {
  v1::PipelineView out;
  set_time(&out, &v1::PipelineView::mutable_as_of, now);
  for (const auto* entry : sorted(v.deals())) {
    const auto& [id, d] = *entry;
    if (!open_deal(d) || d.lead_at() > now || (!segment.empty() && d.segment() != segment)) continue;
    auto* p = out.add_deals();
    p->set_deal_id(id);
    p->set_company(d.company());
    p->set_segment(d.segment());
    p->set_stage(d.stage());
    p->set_action(action_under_way(d));
    p->set_days_in_stage(static_cast<double>(now - d.stage_entered_at()) / kMicrosPerDay);
    p->set_priority(d.priority());
    p->set_next_action(next_action(d));
    p->set_stalled(stalled(d, now));
    p->set_arr_low(d.arr_low());
    p->set_arr_high(d.arr_high());
  }
  std::stable_sort(out.mutable_deals()->begin(), out.mutable_deals()->end(), [](const auto& a, const auto& b) {
    if (a.stage() != b.stage()) return a.stage() > b.stage();
    return a.priority() > b.priority();
  });
  return out;
}

Status check(const DealListFilter& f) {
  if (!f.stage.empty()) {
    bool known = false;
    for (int i = static_cast<int>(v1::STAGE_INPUT); i <= static_cast<int>(v1::STAGE_LEARNING); ++i)
      known = known || stage_matches(stage_name(static_cast<Stage>(i)), f.stage);
    if (!known)
      return Status::invalid("stage '" + f.stage + "' is not one of input, hypothesis, implication, decision, actions, learning (or 1..6)");
  }
  if (!v1::DealStatus_IsValid(f.status))
    return Status::invalid("status " + std::to_string(f.status) + " is not one of " + words_of(v1::DealStatus_descriptor()));
  return Status::success();
}

v1::DealStatus deal_status(const v1::DealView& d, std::int64_t now) {
  if (d.outcome() == v1::WON) return v1::DEAL_WON;
  if (d.outcome() == v1::LOST) return v1::DEAL_LOST;
  if (d.outcome() == v1::STALLED || stalled(d, now)) return v1::DEAL_STALLED;
  if (d.verdict() == v1::REJECT) return v1::DEAL_REJECTED;
  return v1::DEAL_OPEN;
}

v1::DealList deal_list(const LedgerView& v, std::int64_t now, const DealListFilter& f) {
  v1::DealList out;
  set_time(&out, &v1::DealList::mutable_as_of, now);
  for (const auto* entry : sorted(v.deals())) {
    const auto& [id, d] = *entry;
    if (!d.lead_at() || d.lead_at() > now) continue;
    const v1::DealStatus status = deal_status(d, now);
    const bool open = status == v1::DEAL_OPEN || (status == v1::DEAL_STALLED && d.outcome() != v1::STALLED);
    if (f.status != v1::DEAL_STATUS_UNSPECIFIED && f.status != status && !(f.status == v1::DEAL_OPEN && open)) continue;
    if (!f.segment.empty() && d.segment() != f.segment) continue;
    if (!f.goal.empty() && d.goal_id() != f.goal) continue;
    if (!f.stage.empty() && !stage_matches(stage_name(d.stage()), f.stage)) continue;
    auto* s = out.add_deals();
    s->set_deal_id(id);
    s->set_company(d.company());
    s->set_segment(d.segment());
    s->set_stage(d.stage());
    s->set_status(status);
    const std::int64_t since = closed(d) ? d.outcome_at() : d.stage_entered_at();
    s->set_days_in_stage(static_cast<double>(now - since) / kMicrosPerDay);
    s->set_goal_id(d.goal_id());
    s->set_campaign_id(d.campaign_id());
    s->set_priority(d.priority());
    set_time(s, &v1::DealSummary::mutable_lead_at, d.lead_at());
    if (open) s->set_next_action(next_action(d));
  }
  return out;
}

v1::DealThreadView deal_thread_view(const DealState& d) {
  v1::DealThreadView out;
  out.set_deal_id(d.deal_id);
  out.set_stage(d.stage());
  out.set_version(d.version);
  if (d.lead) *out.mutable_input() = *d.lead;
  set_time(&out, &v1::DealThreadView::mutable_input_at, d.lead_at);
  if (d.hypothesis) *out.mutable_hypothesis() = *d.hypothesis;
  set_time(&out, &v1::DealThreadView::mutable_hypothesis_at, d.hypothesis_at);
  if (d.implication) *out.mutable_implication() = *d.implication;
  set_time(&out, &v1::DealThreadView::mutable_implication_at, d.implication_at);
  if (d.decision) {
    *out.mutable_decision() = *d.decision;
    set_time(&out, &v1::DealThreadView::mutable_decision_at, d.decision_at);
    out.set_decided_by(d.decided_by);
    out.set_approved(d.approved);
    out.set_approved_by(d.approved_by);
  }
  if (d.score) *out.mutable_qualification() = *d.score;
  for (const char* type : kSalesActions) {
    auto it = d.actions.find(type);
    if (it == d.actions.end()) continue;
    const auto& a = it->second;
    auto* x = out.add_actions();
    x->set_action(type);
    x->set_status(a.status);
    x->set_result(a.result);
    x->set_human_required(a.human_required);
    set_time(x, &v1::ThreadAction::mutable_planned_at, a.planned_at);
    set_time(x, &v1::ThreadAction::mutable_started_at, a.started_at);
    set_time(x, &v1::ThreadAction::mutable_completed_at, a.completed_at);
    x->set_completed_event_id(a.completed_event_id);
  }
  out.set_input_event_id(d.lead_event_id);
  out.set_hypothesis_event_id(d.hypothesis_event_id);
  out.set_implication_event_id(d.implication_event_id);
  out.set_decision_event_id(d.decision_event_id);
  out.set_outcome_event_id(d.outcome_event_id);
  out.set_corrections(d.corrections);
  if (d.outcome) {
    *out.mutable_outcome() = *d.outcome;
    set_time(&out, &v1::DealThreadView::mutable_outcome_at, d.outcome_at);
    out.set_cycle_days(d.outcome->cycle_days());
  }
  for (const auto& l : d.learnings) *out.add_learnings() = l;
  set_time(&out, &v1::DealThreadView::mutable_learning_at, d.learning_at);
  std::vector<const v1::FactSource*> sources;
  for (const auto& [key, src] : d.sources) sources.push_back(&src);
  std::stable_sort(sources.begin(), sources.end(), [](const auto* a, const auto* b) {
    return from_timestamp(a->occurred_at()) < from_timestamp(b->occurred_at());
  });
  for (const auto* src : sources) *out.add_sources() = *src;
  return out;
}

v1::CampaignView campaign_view(const CampaignState& c) {
  v1::CampaignView out;
  out.set_campaign_id(c.campaign_id);
  out.set_stage(c.stage());
  if (c.opened) *out.mutable_input() = *c.opened;
  if (c.hypothesis) *out.mutable_hypothesis() = *c.hypothesis;
  if (c.implication) *out.mutable_implication() = *c.implication;
  if (c.decision) *out.mutable_decision() = *c.decision;
  out.set_prospects(static_cast<int>(c.prospects.size()));
  out.set_contacts(static_cast<int>(c.contacts.size()));
  out.set_sequence_steps(c.sequence ? c.sequence->steps_size() : 0);
  out.set_sent(c.sent);
  out.set_responses(static_cast<int>(c.responses.size()));
  int interested = 0;
  for (const auto& [email, kind] : c.responses) interested += kind == "interested";
  out.set_interested(interested);
  out.set_conversions(static_cast<int>(c.conversions.size()));
  if (c.results) *out.mutable_results() = *c.results;
  set_time(&out, &v1::CampaignView::mutable_opened_at, c.opened ? c.opened_at : 0);
  set_time(&out, &v1::CampaignView::mutable_hypothesis_at, c.hypothesis ? c.hypothesis_at : 0);
  set_time(&out, &v1::CampaignView::mutable_implication_at, c.implication ? c.implication_at : 0);
  set_time(&out, &v1::CampaignView::mutable_decision_at, c.decision ? c.decision_at : 0);
  set_time(&out, &v1::CampaignView::mutable_results_at, c.results ? c.results_at : 0);
  if (c.sequence) {
    *out.mutable_sequence() = *c.sequence;
    set_time(&out, &v1::CampaignView::mutable_sequence_at, c.sequence_at);
  }
  for (const auto& e : c.entries) {
    v1::CampaignEntry entry;
    *entry.mutable_at() = e.occurred_at();
    switch (e.payload_case()) {
      case Envelope::kProspectAdded: *entry.mutable_prospect() = e.prospect_added(); *out.add_prospect_list() = entry; break;
      case Envelope::kContactAdded: *entry.mutable_contact() = e.contact_added(); *out.add_contact_list() = entry; break;
      case Envelope::kOutreachSent: *entry.mutable_sent() = e.outreach_sent(); *out.add_outreach() = entry; break;
      case Envelope::kResponseReceived:
        *entry.mutable_response() = e.response_received();
        entry.mutable_response()->set_response(response_kind(e.response_received()));  // one recorded before the field, read as now
        *out.add_response_list() = entry;
        break;
      default: break;
    }
  }
  return out;
}

v1::SegmentsView segments_view(const LedgerView& v) {
  v1::SegmentsView out;
  for (const auto* s : sorted(v.segments())) *out.add_segments() = s->second;
  for (const auto* c : sorted(v.campaigns())) *out.add_campaigns() = c->second;
  out.set_position(v.position());
  return out;
}

}  // namespace leanos::projections
