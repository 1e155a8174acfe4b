#include "tools/views.h"

#include <cstdio>
#include <sstream>

#include "tools/cli.h"

namespace leanos::cli {

nlohmann::json proto_json(const google::protobuf::Message& m) { return nlohmann::json::parse(to_json(m)); }

std::string dollars(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-$" : "$") + out;
}

namespace {

// Actions in pipeline order, not alphabetical.
std::vector<std::pair<std::string, const ActionState*>> pipeline_order(const DealState& d) {
  std::vector<std::pair<std::string, const ActionState*>> out;
  for (const char* type : kSalesActions)
    if (auto it = d.actions.find(type); it != d.actions.end()) out.emplace_back(type, &it->second);
  return out;
}

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

nlohmann::json when(Micros t) { return t ? nlohmann::json(format_time(t)) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json deal_json(const DealState& d) {
  nlohmann::json j;
  j["deal_id"] = d.deal_id;
  j["stage"] = stage_name(d.stage());
  j["version"] = d.version;
  j["input"] = d.lead ? proto_json(*d.lead) : nlohmann::json(nullptr);
  j["input_at"] = when(d.lead_at);
  j["hypothesis"] = d.hypothesis ? proto_json(*d.hypothesis) : nlohmann::json(nullptr);
  j["hypothesis_at"] = when(d.hypothesis_at);
  j["implication"] = d.implication ? proto_json(*d.implication) : nlohmann::json(nullptr);
  j["implication_at"] = when(d.implication_at);
  if (d.decision) {
    j["decision"] = proto_json(*d.decision);
    j["decision"]["approved"] = d.approved;
    j["decision"]["approved_by"] = d.approved_by;
    j["decision"]["decided_by"] = d.decided_by;
  } else {
    j["decision"] = nullptr;
  }
  j["decision_at"] = when(d.decision_at);
  j["qualification"] = d.score ? proto_json(*d.score) : nlohmann::json(nullptr);
  j["actions"] = nlohmann::json::array();
  for (const auto& [type, a] : pipeline_order(d))
    j["actions"].push_back({{"action", type},
                            {"status", a->status},
                            {"result", a->result},
                            {"human_required", a->human_required},
                            {"planned_at", when(a->planned_at)},
                            {"started_at", when(a->started_at)},
                            {"completed_at", when(a->completed_at)}});
  j["outcome"] = d.outcome ? proto_json(*d.outcome) : nlohmann::json(nullptr);
  j["outcome_at"] = when(d.outcome_at);
  j["cycle_days"] = d.outcome ? nlohmann::json(d.outcome->cycle_days()) : nlohmann::json(nullptr);
  j["learnings"] = nlohmann::json::array();
  for (const auto& l : d.learnings) j["learnings"].push_back(proto_json(l));
  j["learning_at"] = when(d.learning_at);
  return j;
}

std::string deal_text(const DealState& d) {
  std::ostringstream o;
  const auto& l = *d.lead;
  o << "deal " << d.deal_id << ": " << l.company() << " (" << l.segment() << "), stage " << stage_name(d.stage()) << "\n";
  o << "1 input        " << format_date(d.lead_at) << "  " << lower(v1::LeadSource_Name(l.source()));
  if (!l.channel().empty()) o << "/" << l.channel();
  o << "  " << l.contact().name();
  if (!l.contact().title().empty()) o << ", " << l.contact().title();
  o << " <" << l.contact().email() << ">  signal: " << l.signal();
  if (!l.goal_id().empty()) o << "  goal " << l.goal_id() << (l.subgoal_id().empty() ? "" : "/" + l.subgoal_id());
  if (!l.campaign_id().empty()) o << "  campaign " << l.campaign_id();
  if (!l.attribution().empty()) o << "  attributed to " << l.attribution();
  o << "\n";
  if (d.hypothesis)
    o << "2 hypothesis   " << format_date(d.hypothesis_at) << "  tests " << d.hypothesis->assumption_id() << " at "
      << d.hypothesis->confidence() << " %\n";
  else
    o << "2 hypothesis   -\n";
  if (d.implication)
    o << "3 implication  " << format_date(d.implication_at) << "  ARR " << dollars(d.implication->arr_low()) << "-"
      << dollars(d.implication->arr_high()) << ", strategic " << lower(v1::StrategicValue_Name(d.implication->strategic()))
      << ", " << d.implication->cost_hours() << " h, priority " << fixed2(d.implication->priority()) << "\n";
  else
    o << "3 implication  -\n";
  if (d.decision) {
    o << "4 decision     " << format_date(d.decision_at) << "  " << verdict_name(d.decision->verdict()) << " (impact "
      << fixed2(d.decision->impact());
    if (d.decision->approval_required()) o << (d.approved ? ", approved by " + d.approved_by : ", AWAITING APPROVAL");
    o << "): " << d.decision->reason() << "\n";
  } else {
    o << "4 decision     -\n";
  }
  if (d.actions.empty()) o << "5 actions      -\n";
  bool first = true;
  for (const auto& [type, a] : pipeline_order(d)) {
    o << (first ? "5 actions      " : "               ");
    first = false;
    const Micros t = a->completed_at ? a->completed_at : a->started_at ? a->started_at : a->planned_at;
    o << format_date(t) << "  " << type << " " << a->status;
    if (!a->result.empty()) o << " -> " << a->result;
    o << "\n";
  }
  if (d.score)
    o << "               qualification score " << fixed2(d.score->total()) << " "
      << v1::QualificationVerdict_Name(d.score->verdict()) << "\n";
  if (d.outcome) {
    o << "6 learning     " << format_date(d.outcome_at) << "  " << outcome_name(d.outcome->outcome());
    if (d.outcome->outcome() == v1::WON) o << ", ARR " << dollars(d.outcome->arr()) << ", MRR " << dollars(d.outcome->mrr());
    if (!d.outcome->reason().empty()) o << ", reason " << d.outcome->reason();
    o << ", cycle " << d.outcome->cycle_days() << " days\n";
    for (const auto& lr : d.learnings) {
      o << "               " << lr.assumption_id() << " " << lower(v1::LearningResult_Name(lr.result()));
      if (lr.has_confidence()) o << " -> " << lr.confidence() << " %";
      if (!lr.evidence().empty()) o << " (" << lr.evidence() << ")";
      o << "\n";
    }
  } else {
    o << "6 learning     -\n";
  }
  return o.str();
}

nlohmann::json campaign_json(const CampaignState& c) {
  nlohmann::json j;
  j["campaign_id"] = c.campaign_id;
  j["stage"] = stage_name(c.stage());
  j["input"] = c.opened ? proto_json(*c.opened) : nlohmann::json(nullptr);
  j["hypothesis"] = c.hypothesis ? proto_json(*c.hypothesis) : nlohmann::json(nullptr);
  j["implication"] = c.implication ? proto_json(*c.implication) : nlohmann::json(nullptr);
  j["decision"] = c.decision ? proto_json(*c.decision) : nlohmann::json(nullptr);
  j["prospects"] = c.prospects.size();
  j["contacts"] = c.contacts.size();
  j["sequence_steps"] = c.sequence ? c.sequence->steps_size() : 0;
  j["sent"] = c.sent;
  j["responses"] = c.responses.size();
  int interested = 0;
  for (const auto& [email, kind] : c.responses) interested += kind == "interested";
  j["interested"] = interested;
  j["conversions"] = c.conversions.size();
  j["results"] = c.results ? proto_json(*c.results) : nlohmann::json(nullptr);
  return j;
}

std::string campaign_text(const CampaignState& c) {
  std::ostringstream o;
  o << "campaign " << c.campaign_id << " (" << c.opened->segment() << "), stage " << stage_name(c.stage()) << "\n";
  o << "1 input        " << c.opened->objective() << ", " << c.opened->target_list_size() << " targets";
  if (!c.opened->goal_id().empty()) o << ", goal " << c.opened->goal_id();
  o << "\n";
  o << "2 hypothesis   " << (c.hypothesis ? "tests " + c.hypothesis->assumption_id() + " at " + std::to_string(c.hypothesis->confidence()) + " %" : "-") << "\n";
  if (c.implication)
    o << "3 implication  expect " << c.implication->expected_responses() << " responses, " << c.implication->expected_meetings()
      << " meetings, " << c.implication->expected_deals() << " deals; " << c.implication->cost_hours() << " h\n";
  else
    o << "3 implication  -\n";
  o << "4 decision     " << (c.decision ? verdict_name(c.decision->verdict()) + ": " + c.decision->reason() : "-") << "\n";
  int interested = 0;
  for (const auto& [email, kind] : c.responses) interested += kind == "interested";
  o << "5 actions      " << c.prospects.size() << " prospects, " << c.contacts.size() << " contacts, "
    << (c.sequence ? c.sequence->steps_size() : 0) << "-step sequence, " << c.sent << " sent, " << c.responses.size()
    << " responses (" << interested << " interested), " << c.conversions.size() << " converted to deals\n";
  o << "6 learning     ";
  if (c.results)
    o << c.results->assumption_id() << " " << lower(v1::LearningResult_Name(c.results->result())) << ": " << c.results->summary() << "\n";
  else
    o << "-\n";
  return o.str();
}

}  // namespace leanos::cli
