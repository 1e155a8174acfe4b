#include <cmath>
#include "tools/daily.h"

#include <cstdio>
#include <sstream>

#include "events/time.h"
#include "tools/views.h"

namespace leanos::cli {

using nlohmann::json;

namespace {

json items(const std::vector<projections::QueueItem>& list) {
  json a = json::array();
  for (const auto& i : list)
    a.push_back({{"kind", i.kind}, {"id", i.deal_id}, {"what", i.what}, {"since", i.since ? json(format_time(i.since)) : json(nullptr)}});
  return a;
}

std::string amount(const std::string& metric, std::int64_t v) { return metric == "customers" ? std::to_string(v) : dollars(v); }

const char* kNextAction[] = {"sales:lead-intake", "sales:qualify", "sales:demo", "sales:pilot", "sales:close"};

std::string next_action(const v1::DealView& d) {
  if (!d.hypothesis_at()) return "state the hypothesis";
  if (!d.implication_at()) return "assess the implication";
  if (!d.decision_at() || d.verdict() == v1::DEFER) return "decide";
  if (d.approval_required() && !d.approved()) return "approval";
  for (const char* a : kNextAction) {
    auto it = d.actions().find(a);
    if (it == d.actions().end()) return std::string("start ") + a;
    if (it->second.status() != "completed") return std::string(it->second.status() == "blocked" ? "unblock " : "complete ") + a;
  }
  return "record the outcome";
}

}  // namespace

json trajectory_json(const v1::LedgerView& view, const v1::GoalView& g, std::int64_t now) {
  const auto t = projections::trajectory(g, now);
  json j = {{"progress", t.progress},
            {"gap", t.gap},
            {"rate_per_day", t.rate_per_day},
            {"days_remaining", t.days_remaining ? json(*t.days_remaining) : json(nullptr)},
            // dollars or customers: whole units, not 78000.00000000282
            {"projected", t.projected ? json(std::llround(*t.projected)) : json(nullptr)},
            {"on_track", t.on_track},
            {"risk", projections::risk_name(t.risk)}};
  json subgoals = json::array();
  for (const auto& sg : g.subgoals())
    subgoals.push_back({{"id", sg.id()}, {"status", projections::subgoal_status(view, g, sg)}});
  j["subgoal_status"] = subgoals;
  return j;
}

json today_json(const v1::LedgerView& v, std::int64_t now) {
  json r;
  r["as_of"] = format_time(now);
  r["goals"] = json::array();
  for (const auto* entry : projections::sorted(v.goals())) {
    const auto& [id, g] = *entry;
    if (g.id().empty() || g.defined_at() > now) continue;
    json goal = {{"id", id},
                 {"title", g.title()},
                 {"metric", lower(v1::GoalMetric_Name(g.metric()))},
                 {"current", g.current()},
                 {"target", g.target()},
                 {"met", g.met()},
                 {"due", g.due() ? json(format_date(g.due())) : json(nullptr)}};
    goal["trajectory"] = trajectory_json(v, g, now);
    json milestones = json::array();
    for (const auto& m : g.milestones()) milestones.push_back({{"percent", m.percent()}, {"reached_at", format_date(m.reached_at())}});
    goal["milestones"] = milestones;
    r["goals"].push_back(goal);
  }
  const auto q = projections::work_queue(v, now);
  r["queue"] = {{"approvals", items(q.approvals)},
                {"human_actions", items(q.human_actions)},
                {"blocked", items(q.blocked)},
                {"content", items(q.content)},
                {"agent_decisions", items(q.agent_decisions)}};
  r["alerts"] = {{"overdue", items(q.overdue)}, {"stalled", items(q.stalled)}};
  r["recommendations"] = json::array();
  for (const auto& rec : projections::recommendations(v, now))
    r["recommendations"].push_back({{"rule", rec.rule}, {"action", rec.action}, {"why", rec.why}});
  r["approval_threshold"] = v.approval_threshold();
  return r;
}

std::string today_text(const json& r) {
  std::ostringstream o;
  o << "LeanOS morning, " << r["as_of"].get<std::string>().substr(0, 10) << "\n\nGOALS\n";
  for (const auto& g : r["goals"]) {
    const auto& t = g["trajectory"];
    char line[256];
    std::snprintf(line, sizeof line, "  %-12s %3.0f %%  %s of %s  risk %-8s %s%s\n", g["id"].get<std::string>().c_str(),
                  t["progress"].get<double>() * 100, amount(g["metric"], g["current"]).c_str(),
                  amount(g["metric"], g["target"]).c_str(), t["risk"].get<std::string>().c_str(),
                  g["met"].get<bool>() ? "target met" : (t["on_track"].get<bool>() ? "on track" : "off track"),
                  g["due"].is_null() ? "" : (", due " + g["due"].get<std::string>()).c_str());
    o << line;
    for (const auto& s : t["subgoal_status"]) o << "               " << s["id"].get<std::string>() << " " << s["status"].get<std::string>() << "\n";
  }
  auto section = [&](const char* title, const json& list, std::size_t max = 8) {
    if (list.empty()) return;
    o << "  " << title << " (" << list.size() << ")\n";
    for (std::size_t i = 0; i < list.size() && i < max; ++i) o << "    - " << list[i]["what"].get<std::string>() << "\n";
    if (list.size() > max) o << "    ... and " << list.size() - max << " more (--json lists all)\n";
  };
  o << "\nNEEDS YOU\n";
  section("approvals", r["queue"]["approvals"]);
  section("actions that need a person", r["queue"]["human_actions"], 6);
  section("blocked", r["queue"]["blocked"]);
  section("content opportunities", r["queue"]["content"], 3);
  section("agents decided on their own (24 h)", r["queue"]["agent_decisions"], 3);
  o << "\nALERTS\n";
  section("overdue", r["alerts"]["overdue"], 6);
  section("stalled", r["alerts"]["stalled"], 6);
  o << "\nRECOMMENDED\n";
  for (const auto& rec : r["recommendations"])
    o << "  - " << rec["action"].get<std::string>() << "  [" << rec["rule"].get<std::string>() << ": "
      << rec["why"].get<std::string>() << "]\n";
  return o.str();
}

json pipeline_json(const v1::LedgerView& v, std::int64_t now, const std::string& segment) {
  json deals = json::array();
  for (const auto* entry : projections::sorted(v.deals())) {
    const auto& [id, d] = *entry;
    if (!d.lead_at() || d.lead_at() > now || (!segment.empty() && d.segment() != segment)) continue;
    if (d.verdict() == v1::REJECT || (d.outcome() != v1::OUTCOME_UNSPECIFIED && d.outcome() != v1::STALLED)) continue;
    std::string action;
    for (const char* a : kNextAction) {
      auto it = d.actions().find(a);
      if (it != d.actions().end() && it->second.status() != "completed") action = std::string(a) + " " + it->second.status();
    }
    deals.push_back({{"deal_id", id},
                     {"company", d.company()},
                     {"segment", d.segment()},
                     {"stage", d.stage()},
                     {"action", action},
                     {"days_in_stage", static_cast<double>(now - d.stage_entered_at()) / projections::kDay},
                     {"priority", d.priority()},
                     {"next_action", next_action(d)},
                     {"stalled", projections::stalled(d, now)}});
  }
  std::stable_sort(deals.begin(), deals.end(), [](const json& a, const json& b) {
    if (a["stage"] != b["stage"]) return a["stage"].get<std::string>() > b["stage"].get<std::string>();
    return a["priority"].get<double>() > b["priority"].get<double>();
  });
  return {{"as_of", format_time(now)}, {"deals", deals}};
}

std::string pipeline_text(const json& p) {
  std::ostringstream o;
  std::string stage;
  for (const auto& d : p["deals"]) {
    if (d["stage"] != stage) {
      stage = d["stage"].get<std::string>();
      o << stage << "\n";
    }
    char line[320];
    std::snprintf(line, sizeof line, "  %-22s %-12s %5.1f d  prio %.2f  %-28s next: %s%s\n", d["company"].get<std::string>().c_str(),
                  d["segment"].get<std::string>().c_str(), d["days_in_stage"].get<double>(), d["priority"].get<double>(),
                  d["action"].get<std::string>().c_str(), d["next_action"].get<std::string>().c_str(),
                  d["stalled"].get<bool>() ? "  STALLED" : "");
    o << line;
  }
  if (p["deals"].empty()) o << "no open deals\n";
  return o.str();
}

}  // namespace leanos::cli
