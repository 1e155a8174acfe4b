#include "projections/metrics.h"

#include "events/domain.h"

#include <cstdio>

#include "events/time.h"
#include <stdexcept>

namespace leanos::projections {

namespace {


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

void add_materials_and_outreach(const LedgerView& v, const DealFilter& filter, PipelineMetrics& m);

bool DealFilter::matches(const v1::DealView& d) const {
  return (segment.empty() || d.segment() == segment) && (goal.empty() || d.goal_id() == goal) &&
         (campaign.empty() || d.campaign_id() == campaign);
}

PipelineMetrics pipeline_metrics(const LedgerView& v, const DealFilter& filter) {
  const std::string key = aggregates_key(filter.goal, filter.segment, filter.campaign);
  v1::Aggregates a;
  if (auto it = v.aggregates().find(key); it != v.aggregates().end()) a = it->second;
  PipelineMetrics m;
  m.deals = static_cast<int>(a.deals());
  m.open = static_cast<int>(a.open());
  m.stalled = static_cast<int>(a.stalled());
  m.qualified = static_cast<int>(a.qualified());
  m.won = static_cast<int>(a.won());
  m.lost = static_cast<int>(a.lost());
  m.mrr = a.mrr();
  m.arr = a.arr();
  m.one_off = a.one_off();
  m.margins_known = static_cast<int>(a.margins());
  m.costs_known = static_cast<int>(a.costed());
  m.closed = static_cast<int>(a.won() + a.lost());
  // Customers are won deals, qualified or not (a deal is won only after QUALIFY, by the rules).
  m.customers = static_cast<int>(a.won());
  const auto d = [](std::int64_t x) { return static_cast<double>(x); };
  if (a.responses()) m.lead_response_hours = d(a.response_micros()) / d(a.responses()) / static_cast<double>(leanos::kMicrosPerHour);
  if (a.qualifications()) m.qualification_days = d(a.qualification_micros()) / d(a.qualifications()) / static_cast<double>(leanos::kMicrosPerDay);
  m.demo_booking_rate = ratio(d(a.demos()), d(a.qualified()));
  m.pilot_conversion = ratio(d(a.pilots_won()), d(a.pilots()));
  m.close_rate = ratio(d(a.won()), d(a.qualified()));
  m.win_rate = ratio(d(a.won()), d(a.won() + a.lost()));
  if (a.won()) {
    m.avg_deal_size = d(a.arr() + a.one_off()) / d(a.won());
    m.avg_cycle_days = d(a.cycle_days()) / d(a.won());
  }
  m.avg_margin_pct = ratio(d(a.margin_pct()), d(a.margins()));  // unknown margins are not 0 %
  if (a.costed()) m.cac = ratio(d(a.costs()), d(a.won()));      // no cost known: CAC unknown, not $0
  add_materials_and_outreach(v, filter, m);
  return m;
}

PipelineMetrics pipeline_metrics_from_deals(const LedgerView& v, const DealFilter& filter) {
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
    if (d.first_action_at()) response.add(static_cast<double>(d.first_action_at() - d.lead_at()) / static_cast<double>(leanos::kMicrosPerHour));
    if (d.qualify_at()) qualification.add(static_cast<double>(d.qualify_at() - d.lead_at()) / static_cast<double>(leanos::kMicrosPerDay));
    if (d.outcome() != v1::OUTCOME_UNSPECIFIED && d.has_cost()) {
      costs += static_cast<double>(d.cost());
      ++m.costs_known;
    }
    if (won || lost) ++m.closed;
    if (d.qualified()) {
      ++m.qualified;
      if (d.demo_started_at()) ++demos;
      if (won) ++m.won;
      if (lost) ++m.lost;
    }
    if (d.actions().count("sales:pilot") && d.actions().at("sales:pilot").started_at() && (won || lost)) {
      ++pilots;
      if (won) ++pilots_won;
    }
    if (won) {
      ++m.customers;
      m.mrr += d.mrr();
      m.arr += d.arr();
      m.one_off += d.one_off();
      deal_size.add(static_cast<double>(d.arr() + d.one_off()));
      cycle.add(d.cycle_days());
      if (d.has_margin_pct()) {
        margin.add(d.margin_pct());
        ++m.margins_known;
      }
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
  if (m.costs_known) m.cac = ratio(costs, m.customers);
  add_materials_and_outreach(v, filter, m);
  return m;
}

void add_materials_and_outreach(const LedgerView& v, const DealFilter& filter, PipelineMetrics& m) {
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
}

const std::vector<MetricTarget>& metric_targets() {
  static const std::vector<MetricTarget> kTargets = {
      {"lead_response_hours", v1::BELOW, 24},         {"qualification_days", v1::BELOW, 7},
      {"demo_booking_rate", v1::AT_LEAST, 0.40},      {"pilot_conversion", v1::AT_LEAST, 0.60},
      {"close_rate", v1::AT_LEAST, 0.50},             {"pitch_deck_approval", v1::ABOVE, 0.90},
      {"email_response_rate", v1::ABOVE, 0.10},       {"proposal_acceptance", v1::ABOVE, 0.80},
  };
  return kTargets;
}

const MetricTarget& metric_target(std::string_view name) {
  for (const auto& t : metric_targets())
    if (name == t.name) return t;
  throw std::logic_error("no target for metric " + std::string(name));
}

std::string MetricTarget::text() const {
  char buf[48];
  const char* c = word(comparison).c_str();
  if (value >= 1) std::snprintf(buf, sizeof buf, "%s %.0f", c, value);
  else std::snprintf(buf, sizeof buf, "%s %.2f", c, value);
  return buf;
}

bool MetricTarget::met(double measured) const {
  switch (comparison) {
    case v1::BELOW: return measured < value;
    case v1::AT_LEAST: return measured >= value;
    default: return measured > value;
  }
}

std::vector<std::pair<std::string, std::int64_t>> canvas_metrics(const PipelineMetrics& m) {
  const std::pair<const char*, std::optional<double>> metrics[] = {
      {"arr", static_cast<double>(m.arr)},           {"mrr", static_cast<double>(m.mrr)},
      {"customers", static_cast<double>(m.customers)}, {"avg_deal_size", m.avg_deal_size},
      {"avg_cycle_days", m.avg_cycle_days},
  };
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& [name, value] : metrics)
    if (value) out.emplace_back(name, static_cast<std::int64_t>(*value + 0.5));
  return out;
}

}  // namespace leanos::projections
