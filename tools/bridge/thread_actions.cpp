// Stages 5 and 6 of a deal thread (tools/bridge/thread_reader.h): the actions, the outcome,
// the learnings and the new hypotheses a deal proposes.
#include <regex>

#include "events/text.h"
#include "tools/bridge/thread_reader.h"
#include "tools/bridge/values.h"

namespace leanos::bridge::detail {

void ThreadReader::actions(const StageDoc& d) {
  notes_.clear();
  static const std::regex head(R"(^\s*action\s*[0-9]*\s*(?:[:.\-]|–|—)?\s*(.*)$)", std::regex::icase);
  for (const auto& s : d.doc.sections)
    if (s.level >= 2 && std::regex_match(s.title, head)) action(d, s, "");
}

void ThreadReader::action_file(const StageDoc& d, const std::string& type) {
  notes_.clear();
  MdSection all{2, type, 1, {}, {}, {}};
  for (const auto& s : d.doc.sections) all.fields.insert(all.fields.end(), s.fields.begin(), s.fields.end());
  action(d, all, type);
}

void ThreadReader::action(const StageDoc& d, const MdSection& s, const std::string& type_hint) {
  const auto* type = s.field({"Type", "Action", "Action type"});
  auto canonical = type ? parse_action_type(type->value.substr(0, type->value.find(' ')))
                        : type_hint.empty() ? Result<std::string>(Status::invalid("")) : parse_action_type(type_hint);
  if (!canonical) {
    problem(d.file.rel, type ? type->line : s.line,
            "action '" + s.title + "': " + (type || !type_hint.empty() ? canonical.status().message() : "no **Type:** sales:… line"));
    return;
  }
  const auto* status = s.field({"Status"});
  const std::string st = status ? lower(code_word(status->value)) : "";
  const auto* when = s.field({"Duration", "Dates", "Date", "When"});
  auto range = when ? date_range(when->value) : std::nullopt;
  if (!range) {
    problem(d.file.rel, when ? when->line : s.line,
            "action " + *canonical + ": no dates; write **Duration:** 3 days (2025-11-16 - 2025-11-18)");
    return;
  }
  if (st == "pending" || st == "planned" || st == "not_started") {
    v1::ActionPlanned p;
    p.set_deal_id(deal_);
    p.set_action(*canonical);
    add(d, s.line, "action " + *canonical + " planned", p, range->first);
    return;
  }
  v1::ActionStarted start;
  start.set_deal_id(deal_);
  start.set_action(*canonical);
  add(d, s.line, "action " + *canonical + " started", start, range->first);
  if (st == "completed" || st == "complete" || st == "done") {
    v1::ActionCompleted c;
    c.set_deal_id(deal_);
    c.set_action(*canonical);
    if (const auto* r = s.field({"Result", "Outcome"})) c.set_result(code_word(r->value));
    add(d, s.line, "action " + *canonical + " completed", c, range->second);
  } else if (st == "blocked") {
    v1::ActionBlocked b;
    b.set_deal_id(deal_);
    b.set_action(*canonical);
    const auto* why = s.field({"Blocker", "Reason", "Notes"});
    b.set_reason(why ? why->value : "blocked, as " + d.file.rel + " says");
    add(d, s.line, "action " + *canonical + " blocked", b, range->second);
  } else if (st != "in_progress" && st != "active" && st != "started") {
    problem(d.file.rel, status ? status->line : s.line,
            "action " + *canonical + ": status '" + (status ? status->value : "") +
                "' is not one of pending, in_progress, blocked, completed");
  }
}

void ThreadReader::outcome(const StageDoc& d) {
  notes_.clear();
  const auto* o = d.doc.field({"Deal outcome", "Outcome"});
  const MdField* status = nullptr;
  for (const auto& s : d.doc.sections)
    if (lower(s.title).find("outcome") != std::string::npos && !status) status = s.field({"Status"});
  const MdField* f = o ? o : status;
  if (!f) return;  // a learning without an outcome: the rules will say so
  // "**Closed:** 2026-02-25" when the deal closed before the learning was written.
  std::optional<Micros> at;
  if (const auto* closed = d.doc.field({"Closed", "Close date", "Closed on"})) at = first_date(closed->value);
  if (!at) at = dated(d);
  std::string word = lower(code_word(f->value));
  auto parsed = parse_outcome(word);
  if (!parsed) {
    problem(d.file.rel, f->line, "outcome '" + f->value + "' is not won (closed), lost or stalled");
    return;
  }
  v1::DealClosed c;
  c.set_deal_id(deal_);
  c.set_outcome(*parsed);
  if (const auto* arr = d.doc.field({"ARR"}))
    if (auto m = money(arr->value)) c.set_arr(m->first);
  if (const auto* mrr = d.doc.field({"MRR"}))
    if (auto m = money(mrr->value)) c.set_mrr(m->first);
  if (const auto* one_off = d.doc.field({"One-off revenue", "One-off", "One-time revenue"}))
    if (auto m = money(one_off->value)) c.set_one_off(m->first);
  if (const auto* margin = d.doc.field({"Margin", "Gross margin"}))
    if (auto m = score(margin->value)) c.set_margin_pct(static_cast<int>(*m));
  if (const auto* cost = d.doc.field({"Sales cost", "Cost of sale"}))
    if (auto m = money(cost->value)) c.set_cost(m->first);
  if (const auto* sat = d.doc.field({"Satisfaction", "Customer satisfaction"}))
    if (auto m = score(sat->value)) c.set_satisfaction(static_cast<int>(*m));
  // "pricing", "terms", "timing", "competition", "other": the rules check the word.
  if (const auto* reason = d.doc.field({"Loss reason"})) c.set_reason(lower(code_word(reason->value)));
  if (at) add(d, f->line, "outcome", c, *at);
}

void ThreadReader::learnings(const StageDoc& d) {
  notes_.clear();
  std::optional<Micros> at;
  bool any = false;
  // `evidence`: the section's own (### A7 … **Evidence:**), else the file's.
  auto record = [&](const std::string& id, const std::string& status_text, const MdField* conf, int line, const MdField* evidence) {
    if (!at) at = dated(d);
    if (!at) return;
    // VALIDATED, INVALIDATED, CHALLENGED, PARTIAL(LY VALIDATED), INCONCLUSIVE: the CLI's words.
    std::string code = lower(code_word(status_text));
    if (code == "partially") code = "partial";
    auto result = parse_learning_result(code);
    if (!result) {
      problem(d.file.rel, line, "learning about " + id + ": result '" + status_text + "' is not VALIDATED, CHALLENGED or INVALIDATED");
      return;
    }
    v1::LearningRecorded l;
    l.set_deal_id(deal_);
    l.set_assumption_id(id);
    l.set_result(*result);
    if (conf) {
      auto c = confidence(conf->value);
      if (!c) {
        problem(d.file.rel, conf->line, "learning about " + id + ": confidence '" + conf->value + "' is not a percent");
        return;
      }
      if (*result == v1::INVALIDATED && c->now != 0)  // the ledger's rule: an invalidated assumption is at 0 %
        warn(d, conf->line, "learning about " + id + ": INVALIDATED at " + std::to_string(c->now) +
                                " %: recorded at 0 %, the confidence of an invalidated assumption in the ledger");
      else
        l.set_confidence(c->now);
    }
    if (evidence) l.set_evidence(evidence->value);
    add(d, line, "learning " + id, l, *at);
    any = true;
  };
  for (const auto& s : d.doc.sections) {
    auto head = assumption_heading(s.title);
    if (!head || s.level < 2) continue;
    const auto* st = s.field({"Status", "Result"});
    if (!st) continue;
    if (lower(st->value).find("new hypothesis") != std::string::npos) {
      if (!at) at = dated(d);
      if (at) proposed(d, s, head->first, head->second, *at);
      any = true;
      continue;
    }
    record(head->first, st->value, s.field({"Confidence", "Posterior confidence", "New confidence"}), s.line, s.field({"Evidence"}));
  }
  if (any) return;
  // "A4: Enterprise customers prefer white-label → VALIDATED" with "Confidence: 60% → 95%".
  static const std::regex line_re(R"(^\s*([AH][0-9]{1,4})\s*:.*(?:→|->)\s*([A-Za-z_ ]+)\s*$)");
  for (const auto* l : all_lines(d.doc)) {
    std::smatch m;
    if (std::regex_match(l->text, m, line_re)) record(m[1].str(), m[2].str(), d.doc.field({"Confidence"}), l->line, d.doc.field({"Evidence"}));
  }
}

void ThreadReader::proposed(const StageDoc& d, const MdSection& s, const std::string& id, const std::string& title, Micros at) {
  const auto* statement = s.field({"New hypothesis", "Hypothesis", "Statement"});
  const auto* conf = s.field({"Confidence", "Initial confidence", "New confidence"});
  auto c = conf ? confidence(conf->value) : std::nullopt;
  if (!c) {
    problem(d.file.rel, conf ? conf->line : s.line,
            "new hypothesis " + id + ": " + (conf ? "confidence '" + conf->value + "' is not a percent" : "no **Confidence:**") +
                "; write **Confidence:** 40% (how sure the team is of it now)");
    return;
  }
  v1::AssumptionRegistered r;
  r.set_assumption_id(id);
  r.set_statement(statement && !statement->value.empty() ? statement->value : title.empty() ? id : title);
  r.set_confidence(c->now);
  proposed_.push_back(fact(d.file.rel, s.line, "new hypothesis " + id, r, at, actor_));
  proposed_.back().warnings = std::move(notes_);
  notes_.clear();
}

}  // namespace leanos::bridge::detail
