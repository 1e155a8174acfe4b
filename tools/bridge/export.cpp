#include "tools/bridge/export.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "events/domain.h"
#include "tools/cli/views.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

namespace {

using cli::amount;
using cli::date_of;
using cli::dollars;

// A score as written by people: "0.85", "0.7", "1".
std::string number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

std::string title_case(std::string word) {
  for (std::size_t i = 1; i < word.size(); ++i) word[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[i])));
  return word;
}

// ---- canvas -------------------------------------------------------------------------------------

std::string assumptions_file(const LedgerAtTime& l) {
  std::string out = "# Assumptions\n";
  for (const auto& a : l.canvas.assumptions()) {
    out += "\n### " + a.id() + ": " + a.statement() + "\n";
    out += "**Status:** " + a.status() + "\n";
    out += "**Hypothesis:** " + a.statement() + "\n";
    // Its history in force at that time: registered, then each change (a withdrawn one left out).
    const v1::AssumptionChange* registered = nullptr;
    const v1::AssumptionChange* last = nullptr;
    if (auto h = l.histories.find(a.id()); h != l.histories.end())
      for (const auto& c : h->second.changes()) {
        if (c.withdrawn() || c.event().position() > l.canvas.position() || from_timestamp(c.event().occurred_at()) > l.occurred_until)
          continue;
        if (c.event().has_assumption_registered() && !registered) registered = &c;
        last = &c;
      }
    std::string confidence = "**Confidence:** " + std::to_string(a.confidence()) + "%";
    if (last && last != registered && last->has_holds()) confidence += " (previously: " + std::to_string(last->holds().previous()) + "%)";
    out += confidence + "\n";
    out += "**Evidence:** N=" + std::to_string(a.evidence_count()) + "\n";
    if (registered)
      out += "**Registered:** " + std::to_string(registered->event().assumption_registered().confidence()) + "% on " +
             date_of(registered->event().occurred_at()) + "\n";
    if (last) out += "**Last validated:** " + date_of(last->event().occurred_at()) + "\n";
  }
  return out;
}

// ---- goals ---------------------------------------------------------------------------------------

std::string metric_label(const std::string& metric) {
  if (metric == "mrr" || metric == "revenue") return "MRR";
  if (metric == "arr") return "ARR";
  if (metric == "customers") return "Customers";
  return metric;
}

std::string goal_file(const v1::GoalView& g) {
  std::string out = "---\nid: " + g.id() + "\ntype: business\nstatus: " + (g.met() ? "completed" : "active") + "\n";
  if (g.has_defined_at()) out += "created: " + date_of(g.defined_at()) + "\n";
  if (g.has_due()) out += "deadline: " + g.due() + "\n";
  out += "---\n\n# " + g.title() + "\n\n## Success Criteria\n\n";
  out += std::string("- [") + (g.met() ? "x" : " ") + "] " + metric_label(g.metric()) + " >= " + amount(g.metric(), g.target()) + "\n";
  if (!g.subgoals().empty()) {
    out += "\n## Plan\n\n### Subgoals\n";
    for (const auto& sg : g.subgoals()) {
      out += "\n#### " + sg.id() + ": " + sg.title() + "\n\n";
      out += "- **Success:** " + (sg.metric() == "customers" ? std::to_string(sg.target()) + " customers closed"
                                                            : amount(sg.metric(), sg.target()) + " " + metric_label(sg.metric())) + "\n";
      std::string phase = sg.done() ? "completed" : sg.current() > 0 ? "in_progress" : "pending";
      out += "- **Status:** " + phase + " (" + std::to_string(sg.current()) + "/" + std::to_string(sg.target()) + ")\n";
      out += "- **Threads:** ";
      if (sg.deals().empty()) out += "None yet";
      for (int i = 0; i < sg.deals_size(); ++i) out += (i ? ", " : "") + sg.deals(i);
      out += "\n";
    }
  }
  out += "\n## State\n\n### Metrics\n\n| Metric | Current | Target | Gap |\n|---|---|---|---|\n";
  out += "| " + metric_label(g.metric()) + " | " + amount(g.metric(), g.current()) + " | " + amount(g.metric(), g.target()) + " | " +
         amount(g.metric(), g.gap()) + " |\n";
  if (!g.milestones().empty()) {
    out += "\n### Milestones\n\n";
    for (const auto& m : g.milestones()) out += "- [x] " + std::to_string(m.percent()) + "% reached " + date_of(m.reached_at()) + "\n";
  }
  return out;
}

// ---- deal threads -------------------------------------------------------------------------------

std::string source_text(const v1::LeadCaptured& l) {
  switch (l.source()) {
    case v1::INBOUND: return "Inbound" + (l.channel().empty() ? "" : " (" + l.channel() + ")");
    case v1::OUTBOUND: return "Outbound" + (l.channel().empty() ? "" : " (" + l.channel() + ")");
    case v1::CAMPAIGN: return "Campaign " + l.campaign_id();
    default: return "";
  }
}

void thread_files(const v1::DealThreadView& d, WorkspaceFiles& files) {
  const std::string dir = "threads/sales/" + d.deal_id() + "/";
  int stage = 0;
  const auto& l = d.input();
  {
    std::string f = "# Input\n\n**Date:** " + date_of(d.input_at()) + "\n\n## Observation\n\n" + l.signal() + "\n\n## Details\n\n";
    f += "- **Company:** " + l.company() + "\n";
    f += "- **Contact:** " + l.contact().name() + (l.contact().title().empty() ? "" : ", " + l.contact().title()) + ", " +
         l.contact().email() + "\n";
    f += "- **Source:** " + source_text(l) + "\n";
    f += "- **Initial signal:** " + l.signal() + "\n";
    if (!l.attribution().empty()) f += "- **Attribution:** " + l.attribution() + "\n";
    files[dir + "1-input.md"] = f;
    stage = 1;
  }
  if (d.has_hypothesis()) {
    const auto& h = d.hypothesis();
    files[dir + "2-hypothesis.md"] = "# Hypothesis\n\n**Date:** " + date_of(d.hypothesis_at()) + "\n\n### " + h.assumption_id() +
                                     "\n\n**Confidence:** " + std::to_string(h.confidence()) + "%\n";
    stage = 2;
  }
  if (d.has_implication()) {
    const auto& i = d.implication();
    std::string f = "# Implication\n\n**Date:** " + date_of(d.implication_at()) + "\n\n";
    f += "**Expected ARR:** " + (i.arr_low() == i.arr_high() ? dollars(i.arr_low()) : dollars(i.arr_low()) + "-" + dollars(i.arr_high())) + "\n";
    f += "**Strategic value:** " + title_case(v1::StrategicValue_Name(i.strategic())) + "\n";
    f += "**Priority:** " + number(i.priority()) + "\n";
    if (i.cost_hours()) f += "**Resource cost:** " + std::to_string(i.cost_hours()) + " hours\n";
    files[dir + "3-implication.md"] = f;
    stage = 3;
  }
  if (d.has_decision()) {
    const auto& m = d.decision();
    std::string f = "# Decision\n\n**Date:** " + date_of(d.decision_at()) + "\n\n## Verdict\n\n**" + v1::Verdict_Name(m.verdict()) + "**\n\n";
    f += "**Impact score:** " + number(m.impact()) + "\n";
    f += "**Reasoning:** " + m.reason() + "\n";
    if (!m.alternatives().empty()) {
      f += "**Alternatives:** ";
      for (int i = 0; i < m.alternatives_size(); ++i) f += (i ? "; " : "") + m.alternatives(i);
      f += "\n";
    }
    if (d.approved()) f += "**Approved by:** " + d.approved_by() + "\n";
    files[dir + "4-decision.md"] = f;
    stage = 4;
  }
  if (!d.actions().empty()) {
    std::string f = "# Actions\n";
    int n = 0;
    for (const auto& a : d.actions()) {
      f += "\n## Action " + std::to_string(++n) + ": " + a.action() + "\n\n";
      f += "**Type:** " + a.action() + "\n";
      const std::string status = a.status() == v1::ACTION_PLANNED ? "pending" : word(a.status());
      f += "**Status:** " + status + "\n";
      const auto& start = a.has_started_at() ? a.started_at() : a.planned_at();
      f += "**Duration:** " + date_of(start) + (a.has_completed_at() ? " - " + date_of(a.completed_at()) : "") + "\n";
      if (!a.result().empty()) f += "**Result:** " + a.result() + "\n";
    }
    files[dir + "5-actions.md"] = f;
    stage = 5;
  }
  if (d.has_outcome() || !d.learnings().empty()) {
    const auto& at = d.has_learning_at() ? d.learning_at() : d.outcome_at();
    std::string f = "# Learning\n\n**Date:** " + date_of(at) + "\n";
    if (d.has_outcome()) {
      const auto& c = d.outcome();
      f += "\n## Deal Outcome\n\n**Status:** " + v1::Outcome_Name(c.outcome()) + "\n";
      if (d.has_outcome_at() && date_of(d.outcome_at()) != date_of(at)) f += "**Closed:** " + date_of(d.outcome_at()) + "\n";
      if (c.outcome() == v1::WON) {
        f += "**ARR:** " + dollars(c.arr()) + "\n";
        if (c.has_mrr()) f += "**MRR:** " + dollars(c.mrr()) + "\n";
      }
      if (c.margin_pct()) f += "**Margin:** " + std::to_string(c.margin_pct()) + "%\n";
      if (c.cost()) f += "**Sales cost:** " + dollars(c.cost()) + "\n";
      if (c.satisfaction()) f += "**Satisfaction:** " + std::to_string(c.satisfaction()) + "/10\n";
      if (d.has_cycle_days()) f += "**Cycle time:** " + std::to_string(d.cycle_days()) + " days\n";
      if (!c.reason().empty()) f += "**Loss reason:** " + c.reason() + "\n";
    }
    if (!d.learnings().empty()) {
      f += "\n## Hypothesis Validation\n";
      for (const auto& x : d.learnings()) {
        f += "\n### " + x.assumption_id() + "\n\n**Status:** " + v1::LearningResult_Name(x.result()) + "\n";
        if (x.has_confidence()) f += "**Confidence:** " + std::to_string(x.confidence()) + "%\n";
        if (!x.evidence().empty()) f += "**Evidence:** " + x.evidence() + "\n";
      }
    }
    files[dir + "6-learning.md"] = f;
    stage = 6;
  }
  nlohmann::ordered_json meta;
  meta["thread_id"] = d.deal_id();
  meta["type"] = "sales";
  meta["created"] = date_of(d.input_at());
  meta["company"] = l.company();
  meta["segment"] = l.segment();
  if (!l.goal_id().empty()) meta["goal_id"] = l.goal_id();
  if (!l.subgoal_id().empty()) meta["subgoal"] = l.subgoal_id();
  meta["stage"] = stage;
  meta["status"] = d.has_outcome() ? "completed" : "active";
  files[dir + "meta.json"] = meta.dump(2) + "\n";
}

}  // namespace

WorkspaceFiles render_workspace(const LedgerAtTime& l) {
  WorkspaceFiles files;
  if (!l.canvas.assumptions().empty()) files["strategy/canvas/10-assumptions.md"] = assumptions_file(l);
  for (const auto& g : l.goals) files["strategy/goals/" + std::string(g.met() ? "completed/" : "active/") + g.id() + ".md"] = goal_file(g);
  for (const auto& d : l.deals) thread_files(d, files);
  for (const auto& d : l.documents) files.emplace(d.path(), d.content());  // what the ledger models is written from it
  return files;
}

Status write_workspace(const std::string& dir, const WorkspaceFiles& files, bool force) {
  std::error_code ec;
  const fs::path root(dir);
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) return Status::exists(dir + " exists and is not a folder; give a new or empty folder");
    if (!force && fs::directory_iterator(root, ec) != fs::directory_iterator())
      return Status::exists(dir + " is not empty; give a new or empty folder, or --force to write over the files it has");
  }
  for (const auto& [rel, text] : files) {
    const fs::path path = root / rel;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return Status::io("cannot create " + path.parent_path().string() + ": " + ec.message());
    const fs::path temp = path.string() + ".leanos-tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io("cannot write " + temp.string() + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        fs::remove(temp, ec);
        return Status::io("cannot write " + temp.string() + ": " + why);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      fs::remove(temp, ec);
      return Status::io("cannot write " + temp.string() + ": " + std::strerror(errno));
    }
    fs::rename(temp, path, ec);
    if (ec) return Status::io("cannot rename " + temp.string() + " to " + path.string() + ": " + ec.message());
  }
  return Status::success();
}

}  // namespace leanos::bridge
