#include "projections/scenarios.h"

namespace leanos::projections {

void apply(ScenariosFold& fold, const v1::Envelope& e) {
  if (!e.has_scenario_saved()) return;
  const auto& d = e.scenario_saved();
  auto& versions = fold.names[d.name()];
  v1::SavedScenario s;
  s.set_name(d.name());
  s.set_description(d.description());
  *s.mutable_without() = d.without();
  for (const auto& bytes : d.with())
    if (!s.add_with()->ParseFromString(bytes)) s.mutable_with()->RemoveLast();  // the rules recorded none such
  s.set_as_of(d.as_of());
  s.set_known_at(d.known_at());
  s.set_version(static_cast<std::uint32_t>(versions.size() + 1));
  *s.mutable_saved_at() = e.recorded_at();
  s.set_saved_by(e.actor());
  s.set_event_id(e.event_id());
  s.set_position(e.position());
  versions.push_back(std::move(s));
}

v1::ScenariosView scenarios_view(const ScenariosFold& fold) {
  v1::ScenariosView v;
  for (const auto& [name, versions] : fold.names)
    if (!versions.empty()) *v.add_scenarios() = versions.back();
  return v;
}

v1::ScenariosView scenario_versions(const ScenariosFold& fold, const std::string& name) {
  v1::ScenariosView v;
  if (auto it = fold.names.find(name); it != fold.names.end())
    for (const auto& s : it->second) *v.add_scenarios() = s;
  return v;
}

}  // namespace leanos::projections
