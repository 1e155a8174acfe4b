// The saved what-if scenarios (ScenarioSaved), folded from the scenarios stream: each name's
// versions in the order they were saved, their commands readable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "leanos/v1/views.pb.h"

namespace leanos::projections {

struct ScenariosFold {
  std::map<std::string, std::vector<v1::SavedScenario>> names;  // each name's versions, oldest first
};
void apply(ScenariosFold& fold, const v1::Envelope& e);

// The latest version of each name, by name.
v1::ScenariosView scenarios_view(const ScenariosFold& fold);
// One name's versions, oldest first (empty when the name was never saved).
v1::ScenariosView scenario_versions(const ScenariosFold& fold, const std::string& name);

}  // namespace leanos::projections
