#include "tools/bridge/workspace.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "events/ids.h"
#include "events/text.h"
#include "tools/bridge/campaigns.h"
#include "tools/bridge/threads.h"
#include "tools/bridge/markdown.h"
#include "tools/bridge/reading.h"
#include "tools/bridge/tree.h"
#include "tools/bridge/values.h"
#include "tools/cli/cli.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

namespace {

// ---- canvas -------------------------------------------------------------------------------------

struct AssumptionBlock {
  std::string id, statement, file;
  int line = 0;
  std::optional<Confidence> confidence;
  std::optional<Micros> dated;  // Last validated / Last updated
  // "**Registered:** 60% on 2025-10-01" (written by `leanos export`): when and at what
  // confidence the ledger first knew it.
  std::optional<std::pair<int, Micros>> registered;
  v1::AssumptionStatus status = v1::ASSUMPTION_STATUS_UNSPECIFIED;  // **Status:**, when one of the words
};

void read_assumptions(const TextFile& f, std::vector<AssumptionBlock>& out, Unit& unit) {
  const auto doc = parse_markdown(f.text);
  for (const auto& s : doc.sections) {
    if (s.level < 2) continue;
    auto head = assumption_heading(s.title);
    if (!head) continue;
    AssumptionBlock b{head->first, head->second, f.rel, s.line, std::nullopt, std::nullopt, std::nullopt, v1::ASSUMPTION_STATUS_UNSPECIFIED};
    if (const auto* h = s.field({"Hypothesis", "Statement", "Assumption"}); h && !h->value.empty()) b.statement = h->value;
    if (b.statement.empty()) {
      unit.problems.push_back({f.rel, s.line, "assumption " + b.id + " has no statement: give it a title or a **Hypothesis:** line"});
      continue;
    }
    if (const auto* c = s.field({"Confidence", "Current confidence"})) {
      b.confidence = confidence(c->value);
      if (!b.confidence || b.confidence->now < 0 || b.confidence->now > 100) {
        unit.problems.push_back({f.rel, c->line, "assumption " + b.id + ": confidence '" + c->value +
                                                    "' is not a percent from 0 to 100 (write e.g. **Confidence:** 60%)"});
        continue;
      }
    } else {
      unit.problems.push_back({f.rel, s.line, "assumption " + b.id + " has no **Confidence:** line (e.g. **Confidence:** 60%)"});
      continue;
    }
    if (const auto* d = s.field({"Last validated", "Last updated", "Date", "Created"})) b.dated = first_date(d->value);
    if (const auto* st = s.field({"Status"}))
      if (auto parsed = parse_assumption_status(lower(code_word(st->value)))) b.status = *parsed;
    if (const auto* r = s.field({"Registered"})) {
      auto c = confidence(r->value);
      auto at = first_date(r->value);
      if (!c || !at || c->now < 0 || c->now > 100) {
        unit.problems.push_back({f.rel, r->line, "assumption " + b.id + ": **Registered:** '" + r->value +
                                                    "' is not a percent and a date (write e.g. **Registered:** 60% on 2025-10-01)"});
        continue;
      }
      b.registered = std::make_pair(c->now, *at);
    }
    out.push_back(std::move(b));
  }
}

// ---- goals ---------------------------------------------------------------------------------------

// "MRR", "Monthly recurring revenue", "Customers", "customer count", "ARR": the metric.
std::optional<v1::GoalMetric> goal_metric(const std::string& text) {
  const std::string t = lower(text);
  if (t.find("mrr") != std::string::npos || t.find("monthly") != std::string::npos) return v1::MRR;
  if (t.find("arr") != std::string::npos || t.find("annual") != std::string::npos) return v1::ARR;
  if (t.find("customer") != std::string::npos || t.find("client") != std::string::npos || t.find("logo") != std::string::npos)
    return v1::CUSTOMERS;
  return std::nullopt;
}

// An amount of `metric`: dollars for MRR and ARR ("$50,000", "$50K"), a count for customers.
std::optional<std::int64_t> goal_amount(v1::GoalMetric metric, const std::string& text) {
  if (metric == v1::CUSTOMERS) {
    auto n = score(text);
    if (!n) return std::nullopt;
    return static_cast<std::int64_t>(*n);
  }
  auto m = money(text);
  if (!m) return std::nullopt;
  return m->first;
}

Unit read_goal(const TextFile& f, const std::string& actor, Micros fallback, std::optional<Micros> modified) {
  Unit unit;
  unit.name = f.rel;
  const auto doc = parse_markdown(f.text);
  YAML::Node front;
  try {
    if (!doc.frontmatter.empty()) front = YAML::Load(doc.frontmatter);
  } catch (const YAML::Exception& e) {
    unit.problems.push_back({f.rel, doc.frontmatter_line + e.mark.line, "frontmatter is not YAML: " + e.msg});
    return unit;
  }
  auto key = [&](const char* k) -> std::string {
    if (front && front.IsMap() && front[k] && front[k].IsScalar()) return front[k].as<std::string>();
    return "";
  };
  // The goal's id: the frontmatter's, else the file's name.
  std::string id = key("id");
  if (id.empty()) id = fs::path(f.rel).stem().string();
  if (auto st = check_slug("goal id", id); !st) {
    unit.problems.push_back({f.rel, doc.frontmatter_line, st.message()});
    return unit;
  }
  v1::GoalDefined g;
  g.set_goal_id(id);
  for (const auto& s : doc.sections)
    if (s.level == 1 && g.title().empty()) g.set_title(s.title);
  if (g.title().empty()) g.set_title(id);
  const std::string autonomy = lower(key("autonomy"));
  g.set_autonomy(autonomy == "auto" || autonomy == "ask" ? autonomy : "hybrid");
  // When the goal was set: `created:`; else (each said in a warning) the git commit that added
  // it, the earliest date its text states (a log, a table), the file's modification time.
  const int created_line = doc.frontmatter_line ? doc.frontmatter_line : 1;
  auto created = first_date(key("created"));
  std::vector<Problem> notes;
  if (!created && !key("created").empty()) {
    unit.problems.push_back({f.rel, created_line, "created: '" + key("created") + "' is not a date the import reads: write YYYY-MM-DD"});
    return unit;
  }
  if (!created && fallback) {
    created = fallback;
    notes.push_back({f.rel, created_line, "no `created:` in the frontmatter: dated by the git commit that added it, " + format_date(fallback)});
  }
  if (!created) {
    int at_line = 0;
    auto consider = [&](const std::string& text, int line) {
      if (auto t = earliest_date(text); t && (!created || *t < *created)) {
        created = t;
        at_line = line;
      }
    };
    for (const auto* l : all_lines(doc)) consider(l->text, l->line);
    for (const auto& sec : doc.sections)
      for (const auto& t : sec.tables)
        for (const auto& row : t.rows)
          for (const auto& cell : row) consider(cell, t.line);
    if (created)
      notes.push_back({f.rel, created_line, "no `created:` in the frontmatter: dated by the earliest date it states (line " +
                                                std::to_string(at_line) + "), " + format_date(*created)});
  }
  if (!created && modified) {
    created = modified;
    notes.push_back({f.rel, created_line, "no `created:` in the frontmatter and no date in it: dated by the file's modification time, " +
                                              format_date(*modified)});
  }
  if (!created) {
    unit.problems.push_back({f.rel, created_line, "no creation date: add `created: YYYY-MM-DD` to the frontmatter"});
    return unit;
  }
  if (auto due = first_date(key("deadline")); due) to_timestamp(*due + kMicrosPerDay - 1, g.mutable_due());
  // The metric and the target: the State -> Metrics table's first row, else a success
  // criterion "MRR >= $50,000".
  int line = 1;
  for (const auto& s : doc.sections)
    for (const auto& t : s.tables) {
      if (g.metric() != v1::GOAL_METRIC_UNSPECIFIED) break;
      std::size_t metric_col = t.header.size(), target_col = t.header.size();
      for (std::size_t c = 0; c < t.header.size(); ++c) {
        if (lower(t.header[c]) == "metric") metric_col = c;
        if (lower(t.header[c]) == "target") target_col = c;
      }
      if (metric_col == t.header.size() || target_col == t.header.size() || t.rows.empty()) continue;
      const auto& row = t.rows.front();
      if (row.size() <= std::max(metric_col, target_col)) continue;
      auto m = goal_metric(row[metric_col]);
      auto target = m ? goal_amount(*m, row[target_col]) : std::nullopt;
      if (m && target) {
        g.set_metric(*m);
        g.set_target(*target);
        line = t.line;
      }
    }
  if (g.metric() == v1::GOAL_METRIC_UNSPECIFIED)
    for (const auto& s : doc.sections)
      if (lower(s.title).find("success criteria") != std::string::npos)
        for (const auto& l : s.lines) {
          auto m = goal_metric(l.text);
          auto target = m ? goal_amount(*m, l.text.substr(l.text.find_first_of("<>=") == std::string::npos ? 0 : l.text.find_first_of("<>="))) : std::nullopt;
          if (m && target && g.metric() == v1::GOAL_METRIC_UNSPECIFIED) {
            g.set_metric(*m);
            g.set_target(*target);
            line = l.line;
          }
        }
  if (g.metric() == v1::GOAL_METRIC_UNSPECIFIED) {
    unit.problems.push_back({f.rel, 1, "no metric and target: add a ## State / ### Metrics table (| Metric | Current | Target |) "
                                       "or a success criterion such as `- [ ] MRR >= $50,000`"});
    return unit;
  }
  unit.facts.push_back(fact(f.rel, line, "goal " + id, g, *created, actor));
  unit.facts.back().warnings = std::move(notes);
  // Subgoals: "#### SG1: Close first 3 customers" with **Success:** "3 customers closed".
  static const std::regex sg(R"(^\s*(SG[0-9]{1,3})\s*(?:[:.\-]|–|—)?\s*(.*)$)");
  for (const auto& s : doc.sections) {
    std::smatch m;
    if (s.level < 2 || !std::regex_match(s.title, m, sg)) continue;
    v1::SubgoalDefined sub;
    sub.set_goal_id(id);
    sub.set_subgoal_id(m[1].str());
    sub.set_title(m[2].str().empty() ? m[1].str() : m[2].str());
    const auto* success = s.field({"Success", "Target", "Success criteria"});
    const std::string text = (success ? success->value + " " : "") + sub.title();
    const auto metric = goal_metric(text).value_or(v1::CUSTOMERS);
    auto target = goal_amount(metric, text);
    if (!target || *target <= 0) {
      unit.problems.push_back({f.rel, success ? success->line : s.line,
                               "subgoal " + m[1].str() + ": no target; write **Success:** 3 customers (or an amount, $10K MRR)"});
      continue;
    }
    sub.set_metric(metric);
    sub.set_target(*target);
    unit.facts.push_back(fact(f.rel, s.line, "subgoal " + m[1].str(), sub, *created, actor));
  }
  return unit;
}

}  // namespace

namespace {

// ---- documents ----------------------------------------------------------------------------------

void read_documents(const fs::path& root, const std::string& actor, Micros fallback, const std::set<std::string>* changed, Workspace& ws) {
  static const std::set<std::string> text = {".md", ".yaml", ".yml", ".json", ".csv", ".txt"};
  std::vector<fs::path> files;
  std::error_code ec;
  std::string rules_text;
  if (std::ifstream in(root / ".leanosignore", std::ios::binary); in) rules_text.assign(std::istreambuf_iterator<char>(in), {});
  const IgnoreRules ignore(rules_text);
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename().string().front() == '.') {  // .git, .DS_Store, editors' files
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink()) continue;  // kept as a link by the files layer, never followed for facts
    if (ignore.ignored(p.lexically_relative(root).generic_string(), it->is_directory(ec))) {  // left out by .leanosignore
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || !text.count(lower(p.extension().string()))) continue;
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  const std::set<std::string> placeholders(ws.placeholders.begin(), ws.placeholders.end());
  for (const auto& path : files) {
    const std::string rel = path.lexically_relative(root).generic_string();
    if (ws.modeled.count(rel) || placeholders.count(rel) || (changed && !changed->count(rel))) continue;
    auto f = read_file(root, path, ws);
    ++ws.files_read;
    if (!f) {
      ws.refused.push_back({rel, 0, f.status().message()});
      continue;
    }
    if (placeholder(*f, ws)) continue;
    Unit u;
    u.name = rel;
    if (auto st = check_document_path(rel); !st) {
      u.problems.push_back({rel, 0, st.message()});
      ws.units.push_back(std::move(u));
      continue;
    }
    std::optional<Micros> at = document_date(*f, lower(path.extension().string()));
    if (!at && fallback) at = fallback;
    if (!at) at = modified_at(path);
    if (!at) {
      u.problems.push_back({rel, 0, "no date in it and no modification time: add **Last updated:** YYYY-MM-DD"});
      ws.units.push_back(std::move(u));
      continue;
    }
    v1::DocumentWritten d;
    d.set_path(rel);
    d.set_content(f->text);
    u.facts.push_back(fact(rel, 1, "document", d, *at, actor));
    ws.units.push_back(std::move(u));
  }
}

}  // namespace

Result<Workspace> read_workspace(const std::string& dir, const ReadOptions& options) {
  const std::string& actor = options.actor;
  const Micros fallback = options.fallback_date;
  std::error_code ec;
  const fs::path root = fs::path(dir);
  if (!fs::is_directory(root, ec))
    return Status::not_found("no folder " + dir + " to import; give the LeanOS workspace's folder (it holds strategy/ and threads/)");
  Workspace ws;
  // The canvas's assumptions.
  std::vector<AssumptionBlock> assumptions;
  Unit canvas;
  const fs::path canvas_dir = root / "strategy" / "canvas";
  if (fs::is_directory(canvas_dir, ec)) {
    static const std::regex name(R"(^([0-9]{1,2})[-.](.+)\.md$)");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(canvas_dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::smatch m;
      const std::string file = path.filename().string();
      if (!std::regex_match(file, m, name) || lower(m[2].str()).find("assumption") == std::string::npos) continue;
      auto f = read_file(root, path, ws);
      ++ws.files_read;
      ws.modeled.insert(path.lexically_relative(root).generic_string());
      if (!f) {
        ws.refused.push_back({path.lexically_relative(root).generic_string(), 0, f.status().message()});
        continue;
      }
      canvas.name = f->rel;
      read_assumptions(*f, assumptions, canvas);
    }
  }
  // Goals: active, completed and abandoned alike (the log keeps them all).
  std::vector<Unit> goals;
  for (const char* state : {"active", "completed", "abandoned"}) {
    const fs::path folder = root / "strategy" / "goals" / state;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder))
      if (e.path().extension() == ".md" && e.path().filename() != "index.md") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      auto f = read_file(root, path, ws);
      ++ws.files_read;
      ws.modeled.insert(path.lexically_relative(root).generic_string());
      if (!f) {
        ws.refused.push_back({path.lexically_relative(root).generic_string(), 0, f.status().message()});
        continue;
      }
      goals.push_back(read_goal(*f, actor, fallback, modified_at(path)));
    }
  }
  // Deal threads.
  std::vector<Unit> threads;
  const fs::path sales = root / "threads" / "sales";
  if (fs::is_directory(sales, ec)) {
    std::vector<fs::path> folders;
    for (const auto& e : fs::directory_iterator(sales))
      if (e.is_directory() && !e.is_symlink() && e.path().filename() != "campaigns" && e.path().filename().string()[0] != '.')
        folders.push_back(e.path());
      else if (e.is_symlink())
        ws.refused.push_back({e.path().lexically_relative(root).generic_string(), 0, "a symbolic link: not followed"});
    std::sort(folders.begin(), folders.end());
    for (const auto& folder : folders) {
      Unit u = read_thread(root, folder, actor, fallback, ws);
      if (!u.facts.empty() || !u.problems.empty()) threads.push_back(std::move(u));
    }
  }
  // Campaign threads, and the deals their interested responses opened: such a deal's lead is
  // the response's (the rules record it with the response), not its 1-input.md's again.
  std::vector<Unit> campaigns;
  const fs::path campaign_root = sales / "campaigns";
  if (fs::is_directory(campaign_root, ec)) {
    std::vector<fs::path> folders;
    for (const auto& e : fs::directory_iterator(campaign_root))
      if (e.is_directory() && !e.is_symlink() && e.path().filename().string()[0] != '.') folders.push_back(e.path());
      else if (e.is_symlink())
        ws.refused.push_back({e.path().lexically_relative(root).generic_string(), 0, "a symbolic link: not followed"});
    std::sort(folders.begin(), folders.end());
    for (const auto& folder : folders) {
      Unit u = read_campaign(root, folder, actor, fallback, ws);
      if (!u.facts.empty() || !u.problems.empty()) campaigns.push_back(std::move(u));
    }
  }
  std::set<std::string> opened_by_response;
  for (const auto& u : campaigns)
    for (const auto& f : u.facts)
      if (f.command.has_response_received() && !f.command.response_received().opens_deal_id().empty())
        opened_by_response.insert(f.command.response_received().opens_deal_id());
  for (auto& u : threads)
    std::erase_if(u.facts, [&](const Fact& f) {
      return f.command.has_lead_captured() && f.command.lead_captured().source() == v1::CAMPAIGN &&
             opened_by_response.count(f.command.lead_captured().deal_id());
    });
  // An assumption is registered when first known: its own date, or the first thread that
  // states a hypothesis about it, whichever is earlier. At the confidence it had then: the
  // "before" of "60% → 95%" or "(previously: 60%)", when the file gives one.
  std::map<std::string, Micros> first_tested;
  for (const auto& u : threads)
    for (const auto& f : u.facts)
      if (f.command.has_hypothesis_stated()) {
        const auto id = f.command.hypothesis_stated().assumption_id();
        const Micros at = from_timestamp(f.command.occurred_at());
        if (!first_tested.count(id) || at < first_tested[id]) first_tested[id] = at;
      }
  std::set<std::string> seen;
  for (const auto& a : assumptions) {
    if (!seen.insert(a.id).second) {
      canvas.problems.push_back({a.file, a.line, "assumption " + a.id + " is written twice; keep one block"});
      continue;
    }
    std::optional<Micros> at = a.registered ? std::optional<Micros>(a.registered->second) : a.dated;
    if (!a.registered && first_tested.count(a.id) && (!at || first_tested[a.id] < *at)) at = first_tested[a.id];
    std::vector<Problem> notes;
    if (!at && fallback) {
      at = fallback;
      notes.push_back({a.file, a.line, "assumption " + a.id + ": no **Last validated:** and no thread testing it: dated by its git commit, " +
                                           format_date(fallback)});
    }
    if (!at) {
      canvas.problems.push_back({a.file, a.line, "assumption " + a.id +
                                                     " has no date: add **Last validated:** YYYY-MM-DD (or a thread testing it)"});
      continue;
    }
    v1::AssumptionRegistered r;
    r.set_assumption_id(a.id);
    r.set_statement(a.statement);
    r.set_confidence(a.registered ? a.registered->first : a.confidence->before.value_or(a.confidence->now));
    canvas.facts.push_back(fact(a.file, a.line, "assumption " + a.id, r, *at, actor));
    canvas.facts.back().warnings = std::move(notes);
    StatedConfidence stated{a.id, a.file, a.line, a.confidence->now, a.status, std::nullopt};
    if (const std::optional<Micros> revised_at = a.dated ? a.dated : fallback ? std::optional<Micros>(fallback) : std::nullopt) {
      v1::AssumptionRevised v;
      v.set_assumption_id(a.id);
      v.set_confidence(a.confidence->now);
      v.set_status(a.status);
      v.set_evidence("as " + a.file + " states it");
      stated.revision = fact(a.file, a.line, "revision " + a.id, v, *revised_at, actor);
      if (!a.dated)
        stated.revision->warnings.push_back({a.file, a.line, "assumption " + a.id + ": no **Last validated:**: its revision dated by its git commit, " +
                                                                 format_date(fallback)});
    }
    ws.stated.push_back(std::move(stated));
  }
  // The new hypotheses the threads' learnings state, each once (the earliest), unless the
  // canvas file has it already (an agent applied the learning's canvas update).
  std::sort(ws.proposed.begin(), ws.proposed.end(), [](const Fact& a, const Fact& b) {
    return from_timestamp(a.command.occurred_at()) < from_timestamp(b.command.occurred_at());
  });
  for (auto& p : ws.proposed)
    if (seen.insert(p.command.assumption_registered().assumption_id()).second) canvas.facts.push_back(std::move(p));
  ws.proposed.clear();
  if (canvas.name.empty()) canvas.name = "strategy/canvas";
  if (!canvas.facts.empty() || !canvas.problems.empty()) ws.units.push_back(std::move(canvas));
  for (auto& u : goals) ws.units.push_back(std::move(u));
  for (auto& u : read_segment_strategy(root, actor, fallback, ws)) ws.units.push_back(std::move(u));
  // Campaigns before the deals they opened.
  for (auto& u : campaigns) ws.units.push_back(std::move(u));
  // Threads in the order they began: recorded close to business order, fewer facts are
  // backdated, and the process managers restate less (each backdated fact re-derives what
  // follows it). Ties and unreadable threads keep the folders' order.
  auto began = [](const Unit& u) {
    Micros first = std::numeric_limits<Micros>::max();
    for (const auto& f : u.facts) first = std::min(first, from_timestamp(f.command.occurred_at()));
    return first;
  };
  std::stable_sort(threads.begin(), threads.end(), [&](const Unit& a, const Unit& b) { return began(a) < began(b); });
  for (auto& u : threads) ws.units.push_back(std::move(u));
  read_documents(root, actor, fallback, options.changed, ws);
  return ws;
}

}  // namespace leanos::bridge
