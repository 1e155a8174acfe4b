#include "tools/cli/hints.h"

#include <cctype>
#include <functional>
#include <map>

#include "events/domain.h"
#include "events/rules.h"

namespace leanos::cli {

namespace {

std::string param(const Status& s, const std::string& key) {
  for (const auto& [k, v] : s.params())
    if (k == key) return v;
  return "";
}

}  // namespace

std::string cli_hint(const Status& s) {
  using Hint = std::function<std::string(const Status&)>;
  auto p = [](const Status& st, const char* key) { return param(st, key); };
  static const std::map<std::string, Hint> kHints = {
      {rule::kUnknownAssumption,
       [p](const Status& st) { return "register it first with `leanos canvas assume " + p(st, "assumption_id") + " --statement ... --confidence PCT`"; }},
      {rule::kUnknownGoal, [p](const Status& st) { return "define it first with `leanos goal define " + p(st, "goal_id") + " ...`"; }},
      {rule::kUnknownSubgoal,
       [p](const Status& st) { return "add it with `leanos goal subgoal " + p(st, "goal_id") + " " + p(st, "subgoal_id") + " ...`"; }},
      {rule::kUnknownDeal,
       [p](const Status& st) {
         return "open it first with `leanos deal open " + p(st, "deal_id") + " --company ... --segment ... --source inbound ...`";
       }},
      {rule::kUnknownCampaign, [p](const Status& st) { return "open it with `leanos campaign open " + p(st, "campaign_id") + " ...`"; }},
      {rule::kUnknownContact, [](const Status&) { return std::string("add it with `leanos campaign contacts`"); }},
      {rule::kDealExists,
       [p](const Status& st) { return "pick another deal id, or continue it with `leanos deal hypothesis " + p(st, "deal_id") + " ...`"; }},
      {rule::kAssumptionExists,
       [p](const Status& st) {
         return "record one with `leanos deal learn`, or restate it with `leanos canvas revise " + p(st, "assumption_id") + "`";
       }},
      {rule::kThreadEnded,
       [p](const Status& st) {
         const std::string by = p(st, "ended_by");
         // Closed (won, lost, stalled): learning is still to record; rejected or cancelled: nothing is.
         return by == outcome_name(v1::WON) || by == outcome_name(v1::LOST) || by == outcome_name(v1::STALLED)
                    ? std::string("record learning with `leanos deal learn`")
                    : std::string();
       }},
      {rule::kStageSkipped,
       [p](const Status& st) {
         const std::string id = p(st, "deal_id"), needs = p(st, "needs"), stage = p(st, "stage");
         if (needs == "2-hypothesis") return "run `leanos deal hypothesis " + id + " --tests A4 --confidence 60`";
         if (needs == "3-implication") return "run `leanos deal implication " + id + " ...`";
         if (needs == "4-decision")
           return "run `leanos deal decide " + id + (stage == "5-actions" ? " qualify" : " qualify|defer|reject") + " --reason ...`";
         if (needs == "outcome") return "record it with `leanos deal close " + id + " won|lost|stalled ...`";
         return std::string();
       }},
      {rule::kNotQualified, [p](const Status& st) { return "re-decide with `leanos deal decide " + p(st, "deal_id") + " qualify --reason ...`"; }},
      {rule::kApprovalRequired,
       [p](const Status& st) { return "a human approves it with `leanos deal approve " + p(st, "deal_id") + " --by NAME`"; }},
      {rule::kNothingToApprove, [](const Status&) { return std::string("decide first with `leanos deal decide`"); }},
      {rule::kNotLaunched,
       [p](const Status& st) { return "run `leanos campaign decide " + p(st, "campaign_id") + " launch --reason ...`"; }},
      {rule::kActionState,
       [p](const Status& st) {
         const std::string cmd = "`leanos deal action " + p(st, "deal_id") + " " + p(st, "action");
         const std::string status = p(st, "status");
         return status == word(v1::ACTION_IN_PROGRESS) || status == word(v1::ACTION_BLOCKED) ? "complete it with " + cmd + " complete`"
                                                               : "start it first with " + cmd + " start`";
       }},
      {rule::kActionOrder,
       [p](const Status& st) {
         if (!p(st, "running").empty()) return std::string();
         const std::string id = p(st, "deal_id"), may = p(st, "may_start");
         return may.empty() ? "no action can start: record the outcome with `leanos deal close " + id + " ...`"
                            : "start " + may + " instead (`leanos deal action " + id + " ACTION start`)";
       }},
      {rule::kOutcomeWhileActionRuns,
       [p](const Status& st) {
         return p(st, "status") == word(v1::ACTION_IN_PROGRESS) ? "complete it with `leanos deal action " + p(st, "deal_id") + " " + p(st, "action") +
                                                       " complete --outcome ...` (or block it) first"
                                                 : std::string();
       }},
  };
  if (s.rule_id().empty()) return "";
  auto it = kHints.find(s.rule_id());
  return it == kHints.end() ? "" : it->second(s);
}

std::string cli_flag(const std::string& field) {
  // The payload's fields the CLI sets from a flag of another name, or of the same name with
  // dashes; a field no flag sets (one read from a file, a positional argument) has none.
  static const std::map<std::string, std::string> kFlags = {
      {"approved_by", "--by"},         {"arr", "--arr"},
      {"arr_high", "--arr-high"},      {"arr_low", "--arr-low"},
      {"baseline", "--baseline"},      {"company", "--company"},
      {"confidence", "--confidence"},  {"contact.email", "--contact-email"},
      {"contact.name", "--contact-name"}, {"cost", "--cost"},
      {"cost_hours", "--cost-hours"},  {"day_from", "--day-from"},
      {"day_to", "--day-to"},          {"evidence", "--evidence"},
      {"finding", "--finding"},        {"goal_id", "--goal"},
      {"impact", "--impact"},          {"kind", "--kind"},
      {"margin_pct", "--margin"},
      {"metric", "--metric"},          {"mode", "--mode"},
      {"mrr", "--mrr"},                {"objective", "--objective"},
      {"one_off", "--one-off"},        {"priority", "--priority"},
      {"problem", "--problem"},        {"question", "--question"},
      {"reason", "--reason"},          {"result", "--result"},
      {"satisfaction", "--satisfaction"}, {"signal", "--signal"},
      {"solution", "--solution"},      {"source", "--source"},
      {"specifics", "--specifics"},    {"statement", "--statement"},
      {"strategic", "--strategic"},    {"target", "--target"},
      {"target_list_size", "--targets"}, {"title", "--title"},
  };
  auto it = kFlags.find(field);
  return it == kFlags.end() ? "" : it->second;
}

namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

// `text` with each whole-word `field` replaced by `flag`.
std::string replace_word(std::string text, const std::string& field, const std::string& flag) {
  for (std::size_t at = text.find(field); at != std::string::npos; at = text.find(field, at)) {
    const std::size_t end = at + field.size();
    // A field name ends a sentence with a dot ("... is empty."): a trailing dot is not part of it.
    const bool before = at == 0 || !word_char(text[at - 1]);
    const bool after = end == text.size() || !word_char(text[end]) || (text[end] == '.' && (end + 1 == text.size() || text[end + 1] == ' '));
    if (before && after) {
      text.replace(at, field.size(), flag);
      at += flag.size();
    } else {
      at = end;
    }
  }
  return text;
}

}  // namespace

std::string cli_message(const Status& s) {
  if (s.rule_id().empty()) return s.to_string();
  std::string hint = cli_hint(s);
  if (hint.empty()) hint = s.hint();
  std::string reason = s.reason();
  if (s.rule_id() == rule::kInvalidField)
    for (const char* key : {"field", "other_field"})
      if (const std::string field = s.param(key), flag = cli_flag(field); !field.empty() && !flag.empty())
        reason = replace_word(reason, field, flag);
  return std::string(code_name(s.code())) + ": " + reason + (hint.empty() ? "" : "; " + hint);
}

}  // namespace leanos::cli
