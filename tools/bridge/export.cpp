#include "tools/bridge/export.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
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
    out += "**Status:** " + word(a.status()) + "\n";
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
    // A field an imported file did not state (LeadCaptured.unknown) is left out, as it was.
    std::string f = "# Input\n\n**Date:** " + date_of(d.input_at()) + "\n\n";
    if (!l.signal().empty()) f += "## Observation\n\n" + l.signal() + "\n\n";
    f += "## Details\n\n- **Company:** " + l.company() + "\n";
    std::string contact = l.contact().name();
    for (const std::string* part : {&l.contact().title(), &l.contact().email()})
      if (!part->empty()) contact += (contact.empty() ? "" : ", ") + *part;
    if (!contact.empty()) f += "- **Contact:** " + contact + "\n";
    if (!source_text(l).empty()) f += "- **Source:** " + source_text(l) + "\n";
    if (!l.signal().empty()) f += "- **Initial signal:** " + l.signal() + "\n";
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
    if (i.strategic() != v1::STRATEGIC_VALUE_UNSPECIFIED) f += "**Strategic value:** " + title_case(v1::StrategicValue_Name(i.strategic())) + "\n";
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
        if (c.one_off()) f += "**One-off revenue:** " + dollars(c.one_off()) + "\n";
      }
      if (c.has_margin_pct()) f += "**Margin:** " + std::to_string(c.margin_pct()) + "%\n";  // 0 % is known; absent is not
      if (c.has_cost()) f += "**Sales cost:** " + dollars(c.cost()) + "\n";
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
  if (!l.segment().empty()) meta["segment"] = l.segment();
  if (!l.goal_id().empty()) meta["goal_id"] = l.goal_id();
  if (!l.subgoal_id().empty()) meta["subgoal"] = l.subgoal_id();
  meta["stage"] = stage;
  meta["status"] = d.has_outcome() ? "completed" : "active";
  files[dir + "meta.json"] = meta.dump(2) + "\n";
}

// ---- campaigns ----------------------------------------------------------------------------------

// One CSV row (RFC 4180): a cell with a comma, a quote or a line break is quoted.
std::string csv_row(std::initializer_list<std::string> cells) {
  std::string out;
  bool first = true;
  for (const auto& c : cells) {
    if (!first) out += ',';
    first = false;
    if (c.find_first_of(",\"\r\n") == std::string::npos) {
      out += c;
      continue;
    }
    out += '"';
    for (char ch : c) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    out += '"';
  }
  return out + "\n";
}

void campaign_files(const v1::CampaignView& c, WorkspaceFiles& files) {
  const std::string dir = "threads/sales/campaigns/" + c.campaign_id() + "/";
  const auto& o = c.input();
  int stage = 1;
  {
    std::string f = "# Input\n\n**Date:** " + date_of(c.opened_at()) + "\n\n";
    f += "**Segment:** " + o.segment() + "\n**Objective:** " + o.objective() + "\n";
    f += "**Target list size:** " + std::to_string(o.target_list_size()) + "\n";
    if (!o.goal_id().empty()) f += "**Goal:** " + o.goal_id() + "\n";
    files[dir + "1-input.md"] = f;
  }
  if (c.has_hypothesis()) {
    files[dir + "2-hypothesis.md"] = "# Hypothesis\n\n**Date:** " + date_of(c.hypothesis_at()) + "\n\n### " +
                                     c.hypothesis().assumption_id() + "\n\n**Confidence:** " +
                                     std::to_string(c.hypothesis().confidence()) + "%\n";
    stage = 2;
  }
  if (c.has_implication()) {
    const auto& i = c.implication();
    std::string f = "# Implication\n\n**Date:** " + date_of(c.implication_at()) + "\n\n";
    f += "**Expected responses:** " + std::to_string(i.expected_responses()) + "\n";
    f += "**Expected meetings:** " + std::to_string(i.expected_meetings()) + "\n";
    f += "**Expected deals:** " + std::to_string(i.expected_deals()) + "\n";
    f += "**Resource cost:** " + std::to_string(i.cost_hours()) + " hours\n";
    files[dir + "3-implication.md"] = f;
    stage = 3;
  }
  if (c.has_decision()) {
    const auto& m = c.decision();
    std::string f = "# Decision\n\n**Date:** " + date_of(c.decision_at()) + "\n\n## Verdict\n\n**" + v1::Verdict_Name(m.verdict()) + "**\n\n";
    f += "**Reasoning:** " + m.reason() + "\n";
    if (!m.alternatives().empty()) {
      f += "**Alternatives:** ";
      for (int i = 0; i < m.alternatives_size(); ++i) f += (i ? "; " : "") + m.alternatives(i);
      f += "\n";
    }
    files[dir + "4-decision.md"] = f;
    stage = 4;
  }
  auto list = [&](const char* name, const auto& entries, std::initializer_list<std::string> header, auto row) {
    if (entries.empty()) return;
    std::string f = csv_row(header);
    for (const auto& e : entries) f += row(e);
    files[dir + name] = f;
    stage = 5;
  };
  list("prospects.csv", c.prospect_list(), {"date", "company", "website", "linkedin"}, [](const v1::CampaignEntry& e) {
    return csv_row({date_of(e.at()), e.prospect().company(), e.prospect().website(), e.prospect().linkedin()});
  });
  list("contacts.csv", c.contact_list(), {"date", "name", "title", "email", "company"}, [](const v1::CampaignEntry& e) {
    const auto& k = e.contact().contact();
    return csv_row({date_of(e.at()), k.name(), k.title(), k.email(), k.company()});
  });
  if (c.has_sequence()) {
    std::string f = "# Actions\n\n## Outreach sequence\n\n**Date:** " + date_of(c.sequence_at()) + "\n\n";
    for (const auto& step : c.sequence().steps())
      f += "- Day " + std::to_string(step.day()) + ": " + step.channel() + ": " + step.template_() + "\n";
    files[dir + "5-actions.md"] = f;
    stage = 5;
  }
  list("outreach.csv", c.outreach(), {"date", "email", "step"}, [](const v1::CampaignEntry& e) {
    return csv_row({date_of(e.at()), e.sent().email(), std::to_string(e.sent().step())});
  });
  list("responses.csv", c.response_list(), {"date", "email", "kind", "deal"}, [](const v1::CampaignEntry& e) {
    return csv_row({date_of(e.at()), e.response().email(), word(response_kind(e.response())), e.response().opens_deal_id()});
  });
  if (c.has_results()) {
    const auto& r = c.results();
    std::string f = "# Learning\n\n**Date:** " + date_of(c.results_at()) + "\n\n## Hypothesis Validation\n\n### " + r.assumption_id() +
                    "\n\n**Status:** " + v1::LearningResult_Name(r.result()) + "\n";
    if (r.has_confidence()) f += "**Confidence:** " + std::to_string(r.confidence()) + "%\n";
    if (!r.summary().empty()) f += "**Summary:** " + r.summary() + "\n";
    files[dir + "6-learning.md"] = f;
    stage = 6;
  }
  nlohmann::ordered_json meta;
  meta["thread_id"] = c.campaign_id();
  meta["type"] = "sales-campaign";
  meta["created"] = date_of(c.opened_at());
  meta["segment"] = o.segment();
  if (!o.goal_id().empty()) meta["goal_id"] = o.goal_id();
  meta["stage"] = stage;
  const bool ended = c.has_results() || (c.has_decision() && c.decision().verdict() == v1::CANCEL);
  meta["status"] = ended ? "completed" : "active";
  files[dir + "meta.json"] = meta.dump(2) + "\n";
}

// ---- segment strategy ---------------------------------------------------------------------------

// The ICP in LeanOS's short form (what `leanos segment icp --file` reads), written with
// yaml-cpp; text double-quoted, so that no value reads back as a number or a date.
std::string icp_file(const v1::SegmentStrategy& s) {
  const auto& icp = s.icp();
  YAML::Emitter out;
  auto text = [&](const char* key, const std::string& value) {
    if (!value.empty()) out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
  };
  auto texts = [&](const char* key, const auto& values) {
    if (values.empty()) return;
    out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const auto& v : values) out << YAML::DoubleQuoted << v;
    out << YAML::EndSeq;
  };
  out << YAML::BeginMap;
  text("segment", icp.segment());
  out << YAML::Key << "generated_date" << YAML::Value << format_date(s.icp_at());
  out << YAML::Key << "filters" << YAML::Value << YAML::BeginMap;
  texts("industry", icp.filters().industry());
  text("business_model", icp.filters().business_model());
  text("revenue_range", icp.filters().revenue_range());
  texts("tech_stack", icp.filters().tech_stack());
  texts("problem_indicators", icp.filters().problem_indicators());
  out << YAML::EndMap;
  texts("qualification_criteria", icp.qualification_criteria());
  out << YAML::Key << "qualification_score" << YAML::Value << number(icp.qualification_score());
  texts("sample_companies", icp.sample_companies());
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

WorkspaceFiles render_workspace(const LedgerAtTime& l, FileDates* dates) {
  WorkspaceFiles files;
  FileDates when;
  if (!l.canvas.assumptions().empty()) files["strategy/canvas/10-assumptions.md"] = assumptions_file(l);
  for (const auto& g : l.goals) files["strategy/goals/" + std::string(g.met() ? "completed/" : "active/") + g.id() + ".md"] = goal_file(g);
  for (const auto& d : l.deals) thread_files(d, files);
  for (const auto& c : l.campaigns) campaign_files(c, files);
  for (const auto& s : l.segments) {
    if (s.has_icp()) {
      const std::string path = "research/customer/icp/" + s.segment() + "-icp.yaml";
      files[path] = icp_file(s);
      when[path] = s.icp_at();
    }
    if (s.has_narrative()) {
      const std::string dir = "artifacts/sales/" + s.segment() + "/narrative/";
      for (const auto& [part, text] : {std::pair{"problem", &s.narrative().problem()}, std::pair{"solution", &s.narrative().solution()},
                                       std::pair{"specifics", &s.narrative().specifics()}}) {
        files[dir + part + "-narrative.md"] = *text;
        when[dir + part + "-narrative.md"] = s.narrative_at();
      }
    }
  }
  for (const auto& d : l.documents)  // what the ledger models is written from it
    if (files.emplace(d.path(), d.content()).second) when[d.path()] = from_timestamp(d.written_at());
  if (dates) *dates = std::move(when);
  return files;
}

Result<std::unique_ptr<WorkspaceWriter>> WorkspaceWriter::begin(const std::string& dir, const std::vector<std::string>& paths, bool force) {
  std::error_code ec;
  const fs::path root(dir);
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) return Status::exists(dir + " exists and is not a folder; give a new or empty folder");
    if (!force && fs::directory_iterator(root, ec) != fs::directory_iterator())
      return Status::exists(dir + " is not empty; give a new or empty folder, or --force to write over the files it has");
  }
  // Export writes inside DIR only: a symbolic link planted in it (DIR/threads -> /elsewhere)
  // would carry the files out, so every folder and file on the way is checked before anything
  // is written, and a link is refused by name. DIR itself is the caller's to choose.
  for (const auto& rel : paths) {
    const fs::path r(rel);
    if (r.is_absolute() || r.empty() || std::any_of(r.begin(), r.end(), [](const fs::path& part) { return part == ".." || part == "."; }))
      return Status::invalid("the ledger holds a file named '" + rel + "', which is not a path inside the workspace; nothing was written");
    fs::path at = root;
    for (const auto& part : r) {
      at /= part;
      const auto st = fs::symlink_status(at, ec);
      if (ec || st.type() == fs::file_type::not_found) break;
      if (st.type() == fs::file_type::symlink)
        return Status::exists(at.string() + " is a symbolic link (to " + fs::read_symlink(at, ec).string() +
                              "); export writes only inside " + dir + ", so nothing was written: remove the link or export to another folder");
    }
  }
  // Over files already there (--force): each file into a temporary beside it, the file system
  // synced once, then each renamed into place and synced again: a file is the old or the new
  // one after a crash, never a torn one, without an fsync per file (a checkout of 300 files
  // spent most of its time there). Into a new or empty folder there is no old file to keep:
  // each is written in place and the file system synced once before success is reported.
  std::unique_ptr<WorkspaceWriter> w(new WorkspaceWriter);
  w->dir_ = dir;
  w->made_root_ = !fs::exists(root, ec);
  w->fresh_ = w->made_root_ || fs::directory_iterator(root, ec) == fs::directory_iterator();
  fs::create_directories(root, ec);  // a commit with no files is an empty folder, as git gives it
  if (ec) return Status::io("cannot create " + dir + ": " + ec.message());
  return w;
}

WorkspaceWriter::~WorkspaceWriter() {
  if (!finished_) discard();
}

void WorkspaceWriter::discard() {
  std::error_code ec;
  std::lock_guard lock(mu_);
  if (fresh_) {  // all it holds is ours: the folder as it was, missing or empty
    if (made_root_) fs::remove_all(dir_, ec);
    else
      for (const auto& entry : fs::directory_iterator(dir_, ec)) fs::remove_all(entry.path(), ec);
  } else {
    for (const auto& [temp, path] : renames_) fs::remove(temp, ec);
  }
  renames_.clear();
  finished_ = true;
}

Status WorkspaceWriter::write(const std::string& rel, const std::string& text, v1::FileKind kind, std::optional<Micros> date) {
  std::error_code ec;
  const fs::path path = fs::path(dir_) / rel;
  fs::create_directories(path.parent_path(), ec);  // safe beside another thread making the same folder
  if (ec) return Status::io("cannot create " + path.parent_path().string() + ": " + ec.message());
  const fs::path temp = fresh_ ? path : fs::path(path.string() + ".leanos-tmp");
  if (!fresh_) fs::remove(temp, ec);  // a stale one (or a link planted there) goes; the new one is created afresh
  auto made = [&] {
    std::lock_guard lock(mu_);
    renames_.emplace_back(temp, path);
  };
  if (kind == v1::FILE_SYMLINK) {  // the link as written, never followed
    if (::symlink(text.c_str(), temp.c_str()) != 0) return Status::io("cannot create the link " + temp.string() + ": " + std::strerror(errno));
    made();
    return Status::success();
  }
  const mode_t mode = kind == v1::FILE_EXECUTABLE ? 0755 : 0644;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return Status::io("cannot write " + temp.string() + ": " + std::strerror(errno));
  made();
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Status::io("cannot write " + temp.string() + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (date) {
    const struct timespec times[2] = {{*date / 1'000'000, (*date % 1'000'000) * 1000}, {*date / 1'000'000, (*date % 1'000'000) * 1000}};
    ::futimens(fd, times);  // best effort: the date is also in the log
  }
  if (::close(fd) != 0) return Status::io("cannot write " + temp.string() + ": " + std::strerror(errno));
  return Status::success();
}

Status WorkspaceWriter::finish() {
  std::error_code ec;
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Status::io("cannot open " + dir_ + ": " + std::strerror(errno));
  auto sync = [&]() { return ::syncfs(dir_fd) == 0; };
  if (!fresh_ && !sync()) {
    const std::string why = std::strerror(errno);
    ::close(dir_fd);
    return Status::io("cannot sync " + dir_ + ": " + why);
  }
  for (const auto& [temp, path] : renames_) {
    if (fresh_) continue;  // written in place
    fs::rename(temp, path, ec);
    if (ec) {
      ::close(dir_fd);
      return Status::io("cannot rename " + temp.string() + " to " + path.string() + ": " + ec.message());
    }
  }
  finished_ = true;  // renamed: nothing of it is a temporary any more
  const bool synced = sync();
  const std::string why = std::strerror(errno);
  ::close(dir_fd);
  if (!synced) return Status::io("cannot sync " + dir_ + ": " + why);
  return Status::success();
}

Status write_workspace(const std::string& dir, const WorkspaceFiles& files, bool force, const FileDates& dates, const FileKinds& kinds) {
  std::vector<std::string> paths;
  for (const auto& [rel, text] : files) paths.push_back(rel);
  auto w = WorkspaceWriter::begin(dir, paths, force);
  if (!w) return w.status();
  for (const auto& [rel, text] : files) {
    const auto kind = kinds.find(rel);
    const auto date = dates.find(rel);
    if (auto s = (*w)->write(rel, text, kind == kinds.end() ? v1::FILE_REGULAR : kind->second,
                             date == dates.end() ? std::nullopt : std::optional<Micros>(date->second));
        !s)
      return s;  // the writer removes what it wrote
  }
  return (*w)->finish();
}

}  // namespace leanos::bridge
