#include "tools/bridge/campaigns.h"

#include <algorithm>
#include <map>
#include <regex>

#include "events/text.h"
#include "tools/bridge/reading.h"
#include "tools/bridge/values.h"
#include "tools/cli/csv.h"
#include "tools/cli/icp.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

namespace {

// "A4", "H12": an assumption id at the start of a heading or a field.
std::string assumption_id(const std::string& text) {
  static const std::regex re(R"(^\s*([A-Za-z]{1,3}[0-9]{1,3})\b)");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return "";
  std::string id = m[1].str();
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return id;
}

// The whole number a field starts with: "50", "120 hours", "~40".
std::optional<int> whole_number(const std::string& text) {
  static const std::regex re(R"(([0-9]{1,9}))");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return std::nullopt;
  return std::stoi(m[1].str());
}

class CampaignReader {
 public:
  CampaignReader(std::string id, std::string actor, Micros fallback, Unit& unit)
      : id_(std::move(id)), actor_(std::move(actor)), fallback_(fallback), unit_(unit) {}

  void problem(const std::string& file, int line, std::string what) {
    unit_.problems.push_back({file, line, std::move(what)});
    notes_.clear();
  }
  // A stage dated by its git commit says so with the fact it gives (a fact of its own file).
  void add(const std::string& file, int line, std::string what, const google::protobuf::Message& payload, Micros at) {
    unit_.facts.push_back(fact(file, line, std::move(what), payload, at, actor_));
    for (auto& n : notes_)
      if (n.file == file) unit_.facts.back().warnings.push_back(std::move(n));
    notes_.clear();
  }
  std::optional<Micros> dated(const StageDoc& d) {
    notes_.clear();
    if (auto t = stage_date(d)) return t->first;
    if (fallback_) {
      notes_.push_back({d.file.rel, 1, "no **Date:**: dated by its git commit, " + format_date(fallback_)});
      return fallback_;
    }
    problem(d.file.rel, 1, "no date: add a line **Date:** YYYY-MM-DD (the import dates each stage with the file's own date)");
    return std::nullopt;
  }
  // A whole-number field, or a problem naming it.
  std::optional<int> number(const StageDoc& d, std::initializer_list<std::string_view> labels, const char* example) {
    const auto* f = d.doc.field(labels);
    if (!f) return std::nullopt;
    auto n = whole_number(f->value);
    if (!n) problem(d.file.rel, f->line, "'" + f->value + "' is not a whole number: write " + example);
    return n;
  }

  void input(const StageDoc& d, const nlohmann::json& meta) {
    v1::CampaignOpened o;
    o.set_campaign_id(id_);
    const auto* segment = d.doc.field({"Segment"});
    o.set_segment(lower(segment ? segment->value : meta_string(meta, {"segment"})));
    if (o.segment().empty()) problem(d.file.rel, 1, "no segment: add **Segment:** slug (or \"segment\" to meta.json)");
    const auto* objective = d.doc.field({"Objective", "Campaign goal"});
    if (!objective) problem(d.file.rel, 1, "no objective: add **Objective:** what the campaign is for");
    else o.set_objective(objective->value);
    if (auto n = number(d, {"Target list size", "Target list", "Targets"}, "**Target list size:** 50")) o.set_target_list_size(*n);
    const auto* goal = d.doc.field({"Goal", "Goal id"});
    o.set_goal_id(goal ? goal->value : meta_string(meta, {"goal_id", "goal"}));
    if (auto at = dated(d)) add(d.file.rel, 1, "campaign opened", o, *at);
  }

  void hypothesis(const StageDoc& d) {
    v1::CampaignHypothesisStated h;
    h.set_campaign_id(id_);
    int line = 1;
    for (const auto& s : d.doc.sections)
      if (s.level > 0 && !assumption_id(s.title).empty()) {
        h.set_assumption_id(assumption_id(s.title));
        line = s.line;
        break;
      }
    if (const auto* f = d.doc.field({"Assumption", "Tests"})) h.set_assumption_id(assumption_id(f->value));
    if (h.assumption_id().empty()) problem(d.file.rel, 1, "no assumption: add a heading ### A4 (the assumption the campaign tests)");
    const auto* c = d.doc.field({"Confidence"});
    auto value = c ? confidence(c->value) : std::nullopt;
    if (!value) problem(d.file.rel, c ? c->line : line, "no confidence: add **Confidence:** 60%");
    else h.set_confidence(value->now);
    if (auto at = dated(d)) add(d.file.rel, line, "campaign hypothesis", h, *at);
  }

  void implication(const StageDoc& d) {
    v1::CampaignImplicationAssessed i;
    i.set_campaign_id(id_);
    if (auto n = number(d, {"Expected responses"}, "**Expected responses:** 10")) i.set_expected_responses(*n);
    if (auto n = number(d, {"Expected meetings"}, "**Expected meetings:** 4")) i.set_expected_meetings(*n);
    if (auto n = number(d, {"Expected deals"}, "**Expected deals:** 1")) i.set_expected_deals(*n);
    if (auto n = number(d, {"Resource cost", "Cost"}, "**Resource cost:** 20 hours")) i.set_cost_hours(*n);
    if (auto at = dated(d)) add(d.file.rel, 1, "campaign implication", i, *at);
  }

  void decision(const StageDoc& d) {
    v1::CampaignDecisionMade m;
    m.set_campaign_id(id_);
    std::string word;
    int line = 1;
    if (const auto* f = d.doc.field({"Verdict", "Decision"})) word = code_word(f->value), line = f->line;
    for (const auto& s : d.doc.sections)
      for (const auto& l : s.lines)
        if (word.empty() && l.strong) word = code_word(l.text), line = l.line;
    if (word == "LAUNCH" || word == "GO") m.set_verdict(v1::LAUNCH);
    else if (word == "DEFER") m.set_verdict(v1::DEFER);
    else if (word == "CANCEL") m.set_verdict(v1::CANCEL);
    else problem(d.file.rel, line, "no campaign verdict: write **LAUNCH**, **DEFER** or **CANCEL** under ## Verdict");
    if (const auto* r = d.doc.field({"Reasoning", "Reason", "Rationale"})) m.set_reason(r->value);
    if (m.reason().empty()) problem(d.file.rel, line, "no reason: add **Reasoning:** why");
    if (const auto* a = d.doc.field({"Alternatives"})) {
      std::string rest = a->value;
      for (std::size_t p; !rest.empty();) {
        p = rest.find("; ");
        m.add_alternatives(rest.substr(0, p));
        rest = p == std::string::npos ? "" : rest.substr(p + 2);
      }
    }
    if (auto at = dated(d)) add(d.file.rel, line, "campaign decision", m, *at);
  }

  // 5-actions.md: the outreach sequence, "- Day 1: email: intro" lines.
  void sequence(const StageDoc& d) {
    static const std::regex step(R"(^\s*Day\s+([0-9]{1,4})\s*:\s*([A-Za-z]+)\s*:\s*(.+?)\s*$)", std::regex::icase);
    v1::OutreachSequenceDefined q;
    q.set_campaign_id(id_);
    for (const auto* l : all_lines(d.doc)) {
      std::smatch m;
      if (!std::regex_match(l->text, m, step)) continue;
      auto* s = q.add_steps();
      s->set_day(std::stoi(m[1].str()));
      s->set_channel(lower(m[2].str()));
      s->set_template_(m[3].str());
    }
    if (q.steps().empty()) return;  // notes only
    if (auto at = dated(d)) add(d.file.rel, 1, "outreach sequence", q, *at);
  }

  void results(const StageDoc& d) {
    v1::CampaignResultsRecorded r;
    r.set_campaign_id(id_);
    int line = 1;
    for (const auto& s : d.doc.sections)
      if (s.level > 0 && !assumption_id(s.title).empty()) {
        r.set_assumption_id(assumption_id(s.title));
        line = s.line;
        break;
      }
    if (r.assumption_id().empty()) problem(d.file.rel, 1, "no assumption: add a heading ### A4 with its **Status:**");
    const auto* status = d.doc.field({"Status", "Result"});
    auto result = status ? parse_learning_result(code_word(status->value)) : Status::invalid("");
    if (!result) problem(d.file.rel, status ? status->line : line, "no result: add **Status:** VALIDATED, PARTIAL or INVALIDATED");
    else r.set_result(*result);
    if (const auto* c = d.doc.field({"Confidence"})) {
      if (auto v = confidence(c->value)) r.set_confidence(v->now);
      else problem(d.file.rel, c->line, "'" + c->value + "' is not a confidence: write 80%");
    }
    if (const auto* s = d.doc.field({"Summary", "Evidence"})) r.set_summary(s->value);
    if (auto at = dated(d)) add(d.file.rel, line, "campaign results", r, *at);
  }

  // A stage-5 list, a row a fact: the `date` column (else the file's date, for LeanOS's
  // research lists that have none) and the named columns.
  void list(const TextFile& f, const std::string& kind, Micros file_date) {
    auto rows = cli::parse_csv(f.text);
    if (!rows) return problem(f.rel, 0, rows.status().message());
    if (rows->empty()) return;
    std::map<std::string, std::size_t> column;
    for (std::size_t i = 0; i < rows->front().cells.size(); ++i) column[lower(rows->front().cells[i])] = i;
    auto cell = [&](const cli::CsvRow& row, std::initializer_list<const char*> names) -> std::string {
      for (const char* n : names)
        if (auto c = column.find(n); c != column.end() && c->second < row.cells.size()) return row.cells[c->second];
      return "";
    };
    auto needs = [&](std::initializer_list<const char*> names) {
      for (const char* n : names)
        if (!column.count(n)) {
          problem(f.rel, rows->front().line, "no column '" + std::string(n) + "' in the header; " + kind + ".csv has the columns date, " +
                                                 (kind == "prospects"  ? "company, website, linkedin"
                                                  : kind == "contacts" ? "name, title, email, company"
                                                  : kind == "outreach" ? "email, step"
                                                                       : "email, kind, deal"));
          return false;
        }
      return true;
    };
    const bool ok = kind == "prospects"  ? (column.count("company_name") || needs({"company"}))
                    : kind == "contacts" ? needs({"name", "email"})
                    : kind == "outreach" ? needs({"email", "step"})
                                         : needs({"email", "kind"});
    if (!ok) return;
    for (std::size_t i = 1; i < rows->size(); ++i) {
      const auto& row = (*rows)[i];
      Micros at = file_date ? file_date : fallback_;
      if (const std::string d = cell(row, {"date"}); !d.empty()) {
        auto t = first_date(d);
        if (!t) {
          problem(f.rel, row.line, "date '" + d + "' is not YYYY-MM-DD");
          continue;
        }
        at = *t;
      }
      if (!at) {
        problem(f.rel, row.line, "no date: add a column date (YYYY-MM-DD), or the date to the file's name (" + kind + "-2026-02-01.csv)");
        continue;
      }
      const std::string what = kind + " " + std::to_string(i);
      if (kind == "prospects") {
        v1::ProspectAdded p;
        p.set_campaign_id(id_);
        p.set_company(cell(row, {"company", "company_name"}));
        p.set_website(cell(row, {"website", "domain"}));
        p.set_linkedin(cell(row, {"linkedin"}));
        add(f.rel, row.line, what, p, at);
      } else if (kind == "contacts") {
        v1::ContactAdded c;
        c.set_campaign_id(id_);
        c.mutable_contact()->set_name(cell(row, {"name"}));
        c.mutable_contact()->set_title(cell(row, {"title"}));
        c.mutable_contact()->set_email(cell(row, {"email"}));
        c.mutable_contact()->set_company(cell(row, {"company", "company_name"}));
        add(f.rel, row.line, what, c, at);
      } else if (kind == "outreach") {
        v1::OutreachSent o;
        o.set_campaign_id(id_);
        o.set_email(cell(row, {"email"}));
        auto step = whole_number(cell(row, {"step"}));
        if (!step) {
          problem(f.rel, row.line, "step '" + cell(row, {"step"}) + "' is not the number of a sequence step");
          continue;
        }
        o.set_step(*step);
        add(f.rel, row.line, what, o, at);
      } else {
        v1::ResponseReceived r;
        r.set_campaign_id(id_);
        r.set_email(cell(row, {"email"}));
        r.set_kind(lower(cell(row, {"kind"})));
        r.set_opens_deal_id(cell(row, {"deal"}));
        add(f.rel, row.line, what, r, at);
      }
    }
  }

 private:
  std::string id_, actor_;
  Micros fallback_;
  std::vector<Problem> notes_;  // warnings for the next fact
  Unit& unit_;
};

}  // namespace

Unit read_campaign(const fs::path& root, const fs::path& folder, const std::string& actor, Micros fallback, Workspace& ws) {
  Unit unit;
  unit.name = folder.lexically_relative(root).generic_string();
  const std::string id = folder.filename().string();
  if (auto st = check_slug("campaign id", id); !st) {
    unit.problems.push_back({unit.name, 0, "the folder name is the campaign's id: " + st.message()});
    return unit;
  }
  nlohmann::json meta = nlohmann::json::object();
  std::map<StageFile, StageDoc> stages;
  std::map<std::string, TextFile> lists;  // prospects, contacts, outreach, responses
  std::map<std::string, Micros> list_dates;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  static const std::regex list_name(R"(^(prospects|contacts|outreach|responses)(-([0-9]{4}-[0-9]{2}-[0-9]{2}))?\.csv$)");
  for (const auto& path : files) {
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(path, ec))) continue;
    const std::string name = lower(path.filename().string());
    std::smatch m;
    const bool is_list = std::regex_match(name, m, list_name);
    const StageFile kind = stage_file(name);
    if (name != "meta.json" && !is_list && kind == StageFile::none) continue;  // notes: documents
    auto f = read_modeled(root, path, unit, ws);
    if (!f || placeholder(*f, ws)) continue;
    if (name == "meta.json") {
      auto j = read_meta(*f);
      if (!j) unit.problems.push_back({f->rel, 0, j.status().message()});
      else meta = std::move(*j);
    } else if (is_list) {
      const std::string list = m[1].str() + (m[3].matched ? "-" + m[3].str() : "");
      lists.emplace(list, std::move(*f));
      list_dates[list] = m[3].matched ? first_date(m[3].str()).value_or(0) : 0;
    } else if (auto d = stage_doc(*f, unit)) {
      add_stage(stages, kind, std::move(*d), unit);
    }
  }
  CampaignReader r(id, actor, fallback, unit);
  if (!stages.count(StageFile::input)) {
    if (!stages.empty() || !lists.empty()) unit.problems.push_back({unit.name, 0, "no 1-input.md: a campaign starts with its input"});
    return unit;
  }
  r.input(stages.at(StageFile::input), meta);
  if (stages.count(StageFile::hypothesis)) r.hypothesis(stages.at(StageFile::hypothesis));
  if (stages.count(StageFile::implication)) r.implication(stages.at(StageFile::implication));
  if (stages.count(StageFile::decision)) r.decision(stages.at(StageFile::decision));
  // Stage 5 in the order the rules need it: prospects and contacts, the sequence, what was
  // sent, the responses.
  for (const char* kind : {"prospects", "contacts"})
    for (const auto& [name, f] : lists)
      if (name.rfind(kind, 0) == 0) r.list(f, kind, list_dates[name]);
  if (stages.count(StageFile::actions)) r.sequence(stages.at(StageFile::actions));
  for (const char* kind : {"outreach", "responses"})
    for (const auto& [name, f] : lists)
      if (name.rfind(kind, 0) == 0) r.list(f, kind, list_dates[name]);
  if (stages.count(StageFile::results)) r.results(stages.at(StageFile::results));
  else if (stages.count(StageFile::learning)) r.results(stages.at(StageFile::learning));
  // The rules take a thread's facts in business order; a file's rows keep theirs.
  std::stable_sort(unit.facts.begin(), unit.facts.end(), [](const Fact& a, const Fact& b) {
    return from_timestamp(a.command.occurred_at()) < from_timestamp(b.command.occurred_at());
  });
  return unit;
}

std::vector<Unit> read_segment_strategy(const fs::path& root, const std::string& actor, Micros fallback, Workspace& ws) {
  std::vector<Unit> out;
  std::error_code ec;
  // ICPs: research/customer/icp/{segment}-icp.yaml in the short form.
  const fs::path icps = root / "research" / "customer" / "icp";
  if (fs::is_directory(icps, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(icps)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    static const std::regex icp_name(R"(^([a-z0-9][a-z0-9-]*)-icp\.ya?ml$)");
    for (const auto& path : files) {
      std::smatch m;
      const std::string name = path.filename().string();
      if (!std::regex_match(name, m, icp_name)) continue;
      auto f = read_file(root, path, ws);
      if (!f || f->text.find_first_not_of(" \t\r\n") == std::string::npos) continue;  // refused or a placeholder: as a document
      auto icp = cli::parse_icp(f->text, f->rel, m[1].str());
      if (!icp) continue;  // the full form, a template with {placeholders}: a document
      ++ws.files_read;
      ws.modeled.insert(f->rel);
      Unit u;
      u.name = f->rel;
      std::optional<Micros> at = document_date(*f, ".yaml");
      if (!at && fallback) at = fallback;
      if (!at) at = modified_at(path);
      if (!at) u.problems.push_back({f->rel, 1, "no date: add generated_date: YYYY-MM-DD"});
      else u.facts.push_back(fact(f->rel, 1, "icp", *icp, *at, actor));
      out.push_back(std::move(u));
    }
  }
  // Narratives: artifacts/sales/{segment}/narrative/, the three files together.
  const fs::path artifacts = root / "artifacts" / "sales";
  if (fs::is_directory(artifacts, ec)) {
    std::vector<fs::path> segments;
    for (const auto& e : fs::directory_iterator(artifacts))
      if (e.is_directory() && !e.is_symlink()) segments.push_back(e.path());
    std::sort(segments.begin(), segments.end());
    for (const auto& folder : segments) {
      const fs::path dir = folder / "narrative";
      if (!fs::is_directory(dir, ec)) continue;
      Unit u;
      u.name = dir.lexically_relative(root).generic_string();
      v1::NarrativeWritten n;
      n.set_segment(folder.filename().string());
      std::optional<Micros> latest;
      int found = 0;
      for (const char* part : {"problem", "solution", "specifics"}) {
        const fs::path path = dir / (std::string(part) + "-narrative.md");
        if (!fs::exists(fs::symlink_status(path, ec))) continue;
        auto f = read_file(root, path, ws);
        if (!f || f->text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
        ++found;
        ws.modeled.insert(f->rel);
        ++ws.files_read;
        std::optional<Micros> at = document_date(*f, ".md");
        if (!at && fallback) at = fallback;
        if (!at) at = modified_at(path);
        if (at) latest = std::max(latest.value_or(*at), *at);
        if (part == std::string("problem")) n.set_problem(f->text);
        else if (part == std::string("solution")) n.set_solution(f->text);
        else n.set_specifics(f->text);
      }
      if (found == 0) continue;
      if (found < 3) {
        // Part of a narrative is not the ledger's narrative: the files stay documents.
        for (const char* part : {"problem", "solution", "specifics"})
          ws.modeled.erase((dir / (std::string(part) + "-narrative.md")).lexically_relative(root).generic_string());
        continue;
      }
      if (auto st = check_slug("segment", n.segment()); !st) u.problems.push_back({u.name, 0, st.message()});
      else if (!latest) u.problems.push_back({u.name, 0, "no date: add **Last updated:** YYYY-MM-DD to one of the three files"});
      else u.facts.push_back(fact(u.name, 1, "narrative", n, *latest, actor));
      out.push_back(std::move(u));
    }
  }
  return out;
}

}  // namespace leanos::bridge
