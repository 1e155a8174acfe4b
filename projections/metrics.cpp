#include "projections/metrics.h"

namespace leanos::projections {

namespace {

constexpr double kMicrosPerHour = 3600.0 * 1e6;

struct Mean {
  double sum = 0;
  int n = 0;
  void add(double v) {
    sum += v;
    ++n;
  }
  std::optional<double> value() const { return n ? std::optional<double>(sum / n) : std::nullopt; }
};

std::optional<double> ratio(double num, double den) { return den > 0 ? std::optional<double>(num / den) : std::nullopt; }

std::optional<double> feedback(const LedgerView& v, v1::MaterialKind kind) {
  auto it = v.material_feedback().find(kind);
  if (it == v.material_feedback().end()) return std::nullopt;
  return ratio(it->second.positive(), it->second.total());
}

}  // namespace

bool DealFilter::matches(const v1::DealView& d) const {
  return (segment.empty() || d.segment() == segment) && (goal.empty() || d.goal_id() == goal) &&
         (campaign.empty() || d.campaign_id() == campaign);
}

PipelineMetrics pipeline_metrics(const LedgerView& v, const DealFilter& filter) {
  PipelineMetrics m;
  Mean response, qualification, deal_size, cycle, margin;
  int demos = 0, pilots = 0, pilots_won = 0;
  double costs = 0;
  for (const auto* entry : sorted(v.deals())) {  // sums of doubles: a fixed order gives fixed bits
    const auto& d = entry->second;
    if (!d.lead_at() || !filter.matches(d)) continue;
    ++m.deals;
    const bool won = d.outcome() == v1::WON, lost = d.outcome() == v1::LOST;
    if (d.outcome() == v1::OUTCOME_UNSPECIFIED || d.outcome() == v1::STALLED) ++m.open;
    if (d.outcome() == v1::STALLED) ++m.stalled;
    if (d.first_action_at()) response.add(static_cast<double>(d.first_action_at() - d.lead_at()) / kMicrosPerHour);
    if (d.qualify_at()) qualification.add(static_cast<double>(d.qualify_at() - d.lead_at()) / (24 * kMicrosPerHour));
    if (d.outcome() != v1::OUTCOME_UNSPECIFIED) costs += static_cast<double>(d.cost());
    if (d.qualified()) {
      ++m.qualified;
      if (d.demo_started_at()) ++demos;
      if (won) ++m.won;
      if (lost) ++m.lost;
    }
    if (d.actions().count("sales:pilot") && d.actions().at("sales:pilot").started_at()) {
      ++pilots;
      if (won) ++pilots_won;
    }
    if (won) {
      ++m.customers;
      m.mrr += d.mrr();
      m.arr += d.arr();
      deal_size.add(static_cast<double>(d.arr()));
      cycle.add(d.cycle_days());
      margin.add(d.margin_pct());
    }
  }
  m.lead_response_hours = response.value();
  m.qualification_days = qualification.value();
  m.demo_booking_rate = ratio(demos, m.qualified);
  m.pilot_conversion = ratio(pilots_won, pilots);
  m.close_rate = ratio(m.won, m.qualified);
  m.win_rate = ratio(m.won, m.won + m.lost);
  m.avg_deal_size = deal_size.value();
  m.avg_cycle_days = cycle.value();
  m.avg_margin_pct = margin.value();
  m.cac = ratio(costs, m.customers);
  m.pitch_deck_approval = feedback(v, v1::PITCH_DECK);
  m.proposal_acceptance = feedback(v, v1::CONTRACT_TEMPLATE);
  int sent = 0, responses = 0;
  for (const auto* entry : sorted(v.campaigns())) {
    const auto& [id, c] = *entry;
    if ((!filter.campaign.empty() && id != filter.campaign) || (!filter.segment.empty() && c.segment() != filter.segment) ||
        (!filter.goal.empty() && c.goal_id() != filter.goal))
      continue;
    sent += c.sent();
    responses += c.responses();
  }
  m.email_response_rate = ratio(responses, sent);
  return m;
}

const std::vector<MetricTarget>& metric_targets() {
  static const std::vector<MetricTarget> kTargets = {
      {"lead_response_hours", "< 24"},  {"qualification_days", "< 7"},   {"demo_booking_rate", ">= 0.40"},
      {"pilot_conversion", ">= 0.60"},  {"close_rate", ">= 0.50"},       {"pitch_deck_approval", "> 0.90"},
      {"email_response_rate", "> 0.10"}, {"proposal_acceptance", "> 0.80"},
  };
  return kTargets;
}

}  // namespace leanos::projections
