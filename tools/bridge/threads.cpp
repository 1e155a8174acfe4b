// The sales deal threads of a LeanOS workspace, read as the ledger's commands
// (tools/bridge/threads.h).
#include "tools/bridge/threads.h"
#include "tools/bridge/thread_reader.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

#include "events/ids.h"
#include "events/text.h"
#include "tools/bridge/markdown.h"
#include "tools/bridge/reading.h"
#include "tools/bridge/values.h"
#include "tools/cli/cli.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

// ---- deal threads: stages 1 to 4 (5 and 6 in thread_actions.cpp) ------------------------------

namespace detail {

void ThreadReader::input(const StageDoc& d, const nlohmann::json& meta, Micros fallback_date) {
  notes_.clear();
  v1::LeadCaptured l;
  l.set_deal_id(deal_);
  auto at = stage_date(d);
  if (!at && unreadable(d)) return;  // never meta.json's date instead, silently
  Micros when = at ? at->first : fallback_date ? fallback_date : fallback_;
  if (!at && when == 0) {
    problem(d.file.rel, 1, "no date: add **Date:** YYYY-MM-DD, or \"created\" to meta.json");
    return;
  }
  if (!at) warn(d, 1, fallback_date ? "no **Date:**: dated by meta.json's created, " + format_date(when)
                                    : "no **Date:**: dated by its git commit, " + format_date(when));
  // A field the file does not state is recorded as unknown, and said.
  auto unknown = [&](const char* field, int line, const std::string& how) {
    l.add_unknown(field);
    warn(d, line, std::string(field) + ": unknown, " + d.file.rel + " names none (" + how + ")");
  };
  const auto* company = d.doc.field({"Company", "Company name"});
  std::string name = company ? company->value : meta_string(meta, {"company", "company_name"});
  // "Acme Corp (enterprise)": the name before a parenthesis.
  if (auto p = name.find(" ("); p != std::string::npos) name = name.substr(0, p);
  if (name.empty()) {
    problem(d.file.rel, 1, "no company: add **Company:** Name, or \"company\" to meta.json (a deal is with someone)");
    return;
  }
  l.set_company(name);
  std::string segment = meta_string(meta, {"segment"});
  if (segment.empty())
    if (const auto* s = d.doc.field({"Segment"})) segment = lower(s->value);
  if (segment.empty()) unknown("segment", 1, "add \"segment\" to meta.json or **Segment:** slug");
  l.set_segment(segment);
  // The contact: "Name, Title, name@company.com" or "Name <name@company.com>".
  const auto* contact = d.doc.field({"Contact", "Contact info", "Contact name"});
  const auto* email_field = d.doc.field({"Email", "Contact email"});
  std::string text = contact ? contact->value : "";
  std::string email;
  std::istringstream words(text + " " + (email_field ? email_field->value : ""));
  for (std::string w; words >> w;)
    if (w.find('@') != std::string::npos) {
      email = w;
      while (!email.empty() && std::string("<>(),;.").find(email.back()) != std::string::npos) email.pop_back();
      while (!email.empty() && std::string("<>(),;").find(email.front()) != std::string::npos) email.erase(0, 1);
      break;
    }
  const auto cut = text.find_first_of(",<(");
  l.mutable_contact()->set_name(std::string(text.substr(0, cut)).erase(text.substr(0, cut).find_last_not_of(' ') + 1));
  if (cut != std::string::npos && text[cut] == ',') {
    auto rest = text.substr(cut + 1);
    const auto next = rest.find(',');
    std::string title = rest.substr(0, next);
    if (title.find('@') == std::string::npos) {
      title.erase(0, title.find_first_not_of(' '));
      l.mutable_contact()->set_title(title);
    }
  }
  l.mutable_contact()->set_email(email);
  l.mutable_contact()->set_company(name);
  if (l.contact().name().empty()) unknown("contact", contact ? contact->line : 1, "write **Contact:** Name, Title, name@company.com");
  if (email.empty()) unknown("email", contact ? contact->line : 1, "write the contact's e-mail address in **Contact:** or **Email:**");
  // Source: inbound, outbound, a campaign.
  const auto* source_field = d.doc.field({"Source", "Lead source"});
  const std::string source = lower(source_field ? source_field->value : meta_string(meta, {"lead_source", "source"}));
  // The channel: what the parentheses say ("Inbound (website)"), else a channel word the
  // source names (referral, website, prospecting); none is guessed.
  std::string channel;
  if (auto open = source.find('('); open != std::string::npos) {
    auto close = source.find(')', open);
    channel = source.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
    channel.erase(0, channel.find_first_not_of(' '));
    channel.erase(channel.find_last_not_of(' ') + 1);
  } else {
    for (const char* word : {"referral", "website", "prospecting"})
      if (source.find(word) != std::string::npos) channel = word;
  }
  if (source.find("campaign") != std::string::npos) {
    l.set_source(v1::CAMPAIGN);
    l.set_channel(source);
  } else if (source.find("outbound") != std::string::npos || source.find("prospect") != std::string::npos) {
    l.set_source(v1::OUTBOUND);
    l.set_channel(channel);
  } else if (source.find("inbound") != std::string::npos || source.find("website") != std::string::npos ||
             source.find("referral") != std::string::npos) {
    l.set_source(v1::INBOUND);
    l.set_channel(channel);
  } else if (source.empty()) {
    unknown("source", 1, "add **Source:** inbound, outbound or campaign");
  } else {
    unknown("source", source_field ? source_field->line : 1, "'" + source + "' is none of inbound, outbound or campaign");
  }
  const auto* signal = d.doc.field({"Initial signal", "Signal", "Trigger"});
  std::string why = signal ? signal->value : "";
  if (why.empty())
    for (const auto& s : d.doc.sections)
      if (lower(s.title) == "observation" && !s.lines.empty()) why = s.lines.front().text;
  if (why.empty()) unknown("signal", 1, "add **Initial signal:** what brought the lead, or an ## Observation");
  l.set_signal(why);
  if (const auto* a = d.doc.field({"Attribution", "Content source"})) l.set_attribution(a->value);
  l.set_goal_id(meta_string(meta, {"goal_id", "goal"}));
  l.set_subgoal_id(meta_string(meta, {"subgoal", "subgoal_id"}));
  add(d, 1, "lead", l, when);
  lead_at_ = when;
}

void ThreadReader::hypothesis(const StageDoc& d) {
  auto at = dated(d);
  v1::HypothesisStated h;
  h.set_deal_id(deal_);
  int line = 1;
  std::string id;
  for (const auto& s : d.doc.sections)
    if (auto head = assumption_heading(s.title); head && s.level >= 2 && id.empty()) {
      id = head->first;
      line = s.line;
    }
  if (id.empty())
    if (const auto* t = d.doc.field({"Tests", "Assumption", "Canvas assumption", "Assumption tested"})) {
      static const std::regex re(R"(\b([AH][0-9]{1,4})\b)");
      std::smatch m;
      if (std::regex_search(t->value, m, re)) id = m[1].str();
      line = t->line;
    }
  static const std::regex label(R"(^[AH][0-9]{1,4}$)");
  if (id.empty())  // "**A7:** the assumption" (LeanOS's operations threads)
    for (const auto& sec : d.doc.sections)
      for (const auto& f : sec.fields)
        if (id.empty() && std::regex_match(f.label, label)) {
          id = f.label;
          line = f.line;
        }
  if (id.empty()) {
    problem(d.file.rel, 1, "no assumption tested: add a heading ### A4: Title (or **Tests:** A4)");
    return;
  }
  h.set_assumption_id(id);
  const auto* c = d.doc.field({"Initial confidence", "Confidence", "Prior confidence", "Current confidence"});
  auto conf = c ? confidence(c->value) : std::nullopt;
  if (!conf) {
    problem(d.file.rel, c ? c->line : line, "no confidence for " + id + ": add **Confidence:** 60%");
    return;
  }
  h.set_confidence(conf->before.value_or(conf->now));
  if (at) add(d, line, "hypothesis " + id, h, *at);
}

void ThreadReader::implication(const StageDoc& d, const nlohmann::json& meta) {
  auto at = dated(d);
  v1::ImplicationAssessed i;
  i.set_deal_id(deal_);
  const auto* arr = d.doc.field({"Expected ARR", "ARR potential", "ARR", "Deal size", "Deal value"});
  std::int64_t low = -1, high = -1;
  if (auto range = arr ? money(arr->value) : std::nullopt) {
    low = range->first;
    high = range->second;
  } else if (auto size = meta_number(meta, "deal_size")) {
    low = high = static_cast<std::int64_t>(*size);
  }
  if (low < 0) {
    problem(d.file.rel, arr ? arr->line : 1, "no ARR: add **Expected ARR:** $1.1M (or a range $1M-$1.5M)");
    return;
  }
  i.set_arr_low(low);
  i.set_arr_high(high);
  const auto* strategic = d.doc.field({"Strategic value", "Strategic"});
  const std::string sv = strategic ? lower(code_word(strategic->value)) : "";
  if (auto parsed = parse_strategic(sv)) {
    i.set_strategic(*parsed);
  } else {
    i.add_unknown("strategic");
    warn(d, strategic ? strategic->line : 1,
         std::string("strategic: unknown, ") +
             (strategic ? "'" + strategic->value + "' is none of high, medium, low" : d.file.rel + " names none") +
             " (add **Strategic value:** high, medium or low)");
  }
  const auto* priority = d.doc.field({"Priority", "Priority score", "Score"});
  std::optional<double> p = priority ? score(priority->value) : std::nullopt;
  if (!p) p = meta_number(meta, "impact_score");
  if (!p || *p < 0 || *p > 1) {
    problem(d.file.rel, priority ? priority->line : 1, "no priority from 0 to 1: add **Priority:** 0.85");
    return;
  }
  i.set_priority(*p);
  if (const auto* cost = d.doc.field({"Resource cost", "Cost"}))
    if (auto hours = score(cost->value)) i.set_cost_hours(static_cast<int>(*hours));
  if (at) add(d, arr ? arr->line : 1, "implication", i, *at);
}

void ThreadReader::decision(const StageDoc& d, const nlohmann::json& meta) {
  auto at = dated(d);
  v1::DecisionMade m;
  m.set_deal_id(deal_);
  // The verdict: a bold word under ## Verdict / ## Decision / ## Recommendation, or a field.
  std::optional<v1::Verdict> verdict;
  int line = 1;
  for (const auto& s : d.doc.sections) {
    const std::string t = lower(s.title);
    if (verdict || (t != "verdict" && t != "decision" && t != "recommendation")) continue;
    for (const auto& l : s.lines)
      if (auto v = parse_deal_verdict(lower(code_word(l.text))); v && !verdict) {
        verdict = *v;
        line = l.line;
      }
  }
  if (!verdict)
    if (const auto* f = d.doc.field({"Verdict", "Decision", "Status"}))
      if (auto v = parse_deal_verdict(lower(code_word(f->value)))) {
        verdict = *v;
        line = f->line;
      }
  if (!verdict) {
    problem(d.file.rel, 1, "no verdict: write ## Verdict then **QUALIFY**, **DEFER** or **REJECT** (PURSUE, PROCEED, PASS, DECLINE are read too)");
    return;
  }
  m.set_verdict(*verdict);
  const auto* impact = d.doc.field({"Impact score", "Impact", "Impact_score"});
  std::optional<double> x = impact ? score(impact->value) : std::nullopt;
  if (!x) x = meta_number(meta, "impact_score");
  m.set_impact(x.value_or(-1));  // none: the rules take the implication's priority
  const auto* reason = d.doc.field({"Reasoning", "Rationale", "Reason", "Why"});
  std::string why = reason ? reason->value : "";
  if (why.empty())
    for (const auto& s : d.doc.sections)
      if (const std::string t = lower(s.title); (t == "reasoning" || t == "rationale") && !s.lines.empty()) why = s.lines.front().text;
  if (why.empty()) why = "as decided in " + d.file.rel;
  m.set_reason(why);
  // "**Alternatives:** defer to next quarter; partner channel".
  if (const auto* alt = d.doc.field({"Alternatives", "Alternatives considered"})) {
    std::string rest = alt->value;
    for (std::size_t at = 0; at <= rest.size();) {
      std::size_t end = rest.find(';', at);
      if (end == std::string::npos) end = rest.size();
      std::string one = rest.substr(at, end - at);
      one.erase(0, one.find_first_not_of(' '));
      one.erase(one.find_last_not_of(' ') + 1);
      if (!one.empty()) m.add_alternatives(one);
      at = end + 1;
    }
  }
  if (at) add(d, line, "decision", m, *at);
  if (const auto* by = d.doc.field({"Approved by", "Approver"}); by && at && !by->value.empty()) {
    v1::DecisionApproved a;
    a.set_deal_id(deal_);
    a.set_approved_by(by->value);
    approval_ = {d, by->line, a, *at};
  }
}

}  // namespace detail

namespace {

using detail::ThreadReader;


}  // namespace

Unit read_thread(const fs::path& root, const fs::path& folder, const std::string& actor, Micros fallback_date, Workspace& ws) {
  Unit unit;
  unit.name = folder.lexically_relative(root).generic_string();
  const std::string deal = folder.filename().string();
  if (auto st = check_slug("deal id", deal); !st) {
    unit.problems.push_back({unit.name, 0, "the folder name is the deal's id: " + st.message()});
    return unit;
  }
  nlohmann::json meta = nlohmann::json::object();
  std::map<StageFile, StageDoc> stages;
  std::vector<std::pair<int, StageDoc>> action_files;  // a 5-actions/ folder, in pipeline order
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const bool is_meta = name == "meta.json";
    const StageFile kind = stage_file(name);
    std::error_code ec;
    static const std::regex actions_folder(R"(^5[-_.]actions$)");
    const bool folder_of_actions = std::regex_match(lower(name), actions_folder);
    if (folder_of_actions && !fs::is_symlink(fs::symlink_status(path, ec)) && fs::is_directory(path, ec)) {
      // 5-actions/: lead-intake.md, qualify.md (or qualification.md), demo.md, pilot.md, close.md.
      std::vector<fs::path> inside;
      for (const auto& e : fs::directory_iterator(path)) inside.push_back(e.path());
      std::sort(inside.begin(), inside.end());
      for (const auto& a : inside) {
        const std::string stem = lower(a.stem().string());
        auto type = parse_action_type("sales:" + stem);
        if (!type || a.extension() != ".md") continue;  // strategy.md, execution-log.md: notes
        const int order = static_cast<int>(std::find_if(std::begin(kSalesActions), std::end(kSalesActions),
                                                        [&](const char* x) { return *type == x; }) -
                                           std::begin(kSalesActions));
        auto f = read_modeled(root, a, unit, ws);
        if (!f || placeholder(*f, ws)) continue;
        action_files.emplace_back(order, StageDoc{*f, parse_markdown(f->text), YAML::Node()});
      }
      std::stable_sort(action_files.begin(), action_files.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      continue;
    }
    if (!is_meta && kind == StageFile::none) continue;  // notes, other folders: not read
    if (!fs::is_symlink(fs::symlink_status(path, ec)) && fs::is_directory(path, ec)) continue;
    auto f = read_modeled(root, path, unit, ws);
    if (!f) continue;
    if (is_meta) {
      auto m = read_meta(*f);
      if (!m) unit.problems.push_back({f->rel, 0, m.status().message()});
      else meta = std::move(*m);
      continue;
    }
    if (placeholder(*f, ws)) continue;  // a placeholder, not a stage
    if (auto d = stage_doc(*f, unit)) add_stage(stages, kind, std::move(*d), unit);
  }
  // meta.json's stage against the stage files (LeanOS's one sales example disagrees too).
  if (auto it = meta.find("stage"); it != meta.end() && it->is_number_integer() && !stages.empty()) {
    int reached = action_files.empty() ? 0 : 5;
    for (const auto& [kind, d] : stages) {
      int n = static_cast<int>(kind);  // input 1 … actions 5, results 6, learning 7
      if (kind == StageFile::learning && !stages.count(StageFile::results)) n = 6;
      reached = std::max(reached, n);
    }
    const int said = it->get<int>();
    if (said != reached)
      unit.conflicts.push_back({unit.name + "/meta.json", 0,
                                "meta.json says stage " + std::to_string(said) + ", the stage files reach stage " +
                                    std::to_string(reached) + "; the stage files are recorded"});
  }
  ThreadReader r(deal, actor, fallback_date, unit);
  const std::string created = meta_string(meta, {"created"});
  const Micros fallback = first_date(created).value_or(0);
  if (!stages.count(StageFile::input)) {
    if (!stages.empty()) unit.problems.push_back({unit.name, 0, "no 1-input.md: a thread starts with its input"});
    return unit;
  }
  r.input(stages.at(StageFile::input), meta, fallback);
  if (stages.count(StageFile::hypothesis)) r.hypothesis(stages.at(StageFile::hypothesis));
  if (stages.count(StageFile::implication)) r.implication(stages.at(StageFile::implication), meta);
  if (stages.count(StageFile::decision)) r.decision(stages.at(StageFile::decision), meta);
  if (r.approval_) {
    const auto& a = *r.approval_;
    unit.facts.push_back(fact(a.doc.file.rel, a.line, "approval", a.payload, a.at, actor));
  }
  if (stages.count(StageFile::actions)) r.actions(stages.at(StageFile::actions));
  else
    for (const auto& [order, d] : action_files) r.action_file(d, kSalesActions[order]);
  if (stages.count(StageFile::results)) r.outcome(stages.at(StageFile::results));
  const StageFile learning = stages.count(StageFile::learning) ? StageFile::learning : StageFile::none;
  if (learning != StageFile::none) {
    if (!stages.count(StageFile::results)) r.outcome(stages.at(learning));
    r.learnings(stages.at(learning));
  }
  for (auto& p : r.proposed_) ws.proposed.push_back(std::move(p));
  return unit;
}


}  // namespace leanos::bridge
