// Pipeline and deal metrics: pure functions of a LedgerView (and a filter). Definitions
// follow docs/domain.md; rates are fractions 0..1 and averages are means over the deals
// that have the quantity — std::nullopt when none do.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "projections/ledger.h"

namespace leanos::projections {

struct DealFilter {
  std::string segment;
  std::string goal;
  std::string campaign;
  bool matches(const v1::DealView& d) const;
};

struct PipelineMetrics {
  std::optional<double> lead_response_hours;  // lead captured -> first action started
  std::optional<double> qualification_days;   // lead captured -> first QUALIFY decision
  std::optional<double> demo_booking_rate;    // deals with a demo / qualified deals
  std::optional<double> pilot_conversion;     // pilots won / pilots concluded (the deal won or lost)
  std::optional<double> close_rate;           // won / qualified
  std::optional<double> win_rate;             // won / (won + lost), qualified deals
  std::optional<double> avg_deal_size;        // mean first-year value (ARR + one-off) of won deals
  std::optional<double> avg_cycle_days;       // mean cycle time of won deals
  std::optional<double> avg_margin_pct;       // mean margin of the won deals whose margin is known
  std::optional<double> cac;                  // known sales costs of closed deals / customers won; none known: unknown
  std::optional<double> pitch_deck_approval;  // positive / all pitch-deck feedback
  std::optional<double> email_response_rate;  // campaign responses / outreach sent
  std::optional<double> proposal_acceptance;  // positive / all contract-template feedback
  std::int64_t mrr = 0;
  std::int64_t arr = 0;
  std::int64_t one_off = 0;  // won deals' revenue that does not recur
  int margins_known = 0;     // won deals with a margin (avg_margin_pct's deals)
  int costs_known = 0;       // closed deals with a sales cost (CAC's)
  int closed = 0;            // won + lost
  int customers = 0;
  int deals = 0;
  int open = 0;
  int qualified = 0;
  int won = 0;
  int lost = 0;
  int stalled = 0;
};

// From the incremental aggregates, kept for every combination of goal, segment and campaign:
// no deal needs to be in memory.
PipelineMetrics pipeline_metrics(const LedgerView& view, const DealFilter& filter = {});
// The canvas's key metrics as a won deal leaves them: ARR, MRR, customers, average deal size
// and average cycle days, rounded to whole units; a metric no deal has yet is left out.
std::vector<std::pair<std::string, std::int64_t>> canvas_metrics(const PipelineMetrics& m);
// The same definitions computed deal by deal: the reference the aggregates are tested against.
PipelineMetrics pipeline_metrics_from_deals(const LedgerView& view, const DealFilter& filter = {});

// The seed's targets by metric name: shown beside the values ("< 24", ">= 0.40") and judged
// by the daily routine's recommendations, from this one table.
struct MetricTarget {
  const char* name;             // the PipelineMetrics / MetricsView field it judges
  v1::Comparison comparison;
  double value;
  std::string text() const;                // "< 24", ">= 0.40"
  bool met(double measured) const;
};
const std::vector<MetricTarget>& metric_targets();
const MetricTarget& metric_target(std::string_view name);

}  // namespace leanos::projections
