// The morning report (`leanos today`) and the pipeline view, as JSON and as text.
#pragma once

#include <nlohmann/json.hpp>

#include "projections/daily.h"

namespace leanos::cli {

// Goals first, then the queue, then alerts and recommendations. Pure: view + now.
nlohmann::json today_json(const v1::LedgerView& view, std::int64_t now);
std::string today_text(const nlohmann::json& report);

nlohmann::json trajectory_json(const v1::LedgerView& view, const v1::GoalView& goal, std::int64_t now);

nlohmann::json pipeline_json(const v1::LedgerView& view, std::int64_t now, const std::string& segment);
std::string pipeline_text(const nlohmann::json& pipeline);

}  // namespace leanos::cli
