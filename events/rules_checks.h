// The checks the rules share (events/rules*.cpp only): a rejection by a named rule, and the
// field checks every command's payload goes through. Not for use outside the rules.
#pragma once

#include <cstdint>
#include <string>

#include "events/rules.h"

namespace leanos::rules_detail {

// A rejection by a named rule (rules.h, namespace rule): the reason and the hint in the
// domain's words, and the parameters a client may branch on (failed_precondition).
Status reject(const char* rule_id, std::string reason, std::string hint = "", Status::Params params = {});
// The same for something a command names that does not exist (not_found).
Status missing(const char* rule_id, std::string reason, std::string hint = "", Status::Params params = {});
// A date as the rules' messages give it (YYYY-MM-DD).
std::string date_of(Micros t);
Status check_percent(const char* what, std::int64_t v);
Status check_unit(const char* what, double v);
Status check_money(const char* what, std::int64_t v);
Status check_text(const char* what, const std::string& v);
Status unknown_assumption(const std::string& id, const Facts& facts);
Status check_goal_link(const std::string& goal, const std::string& subgoal, const Facts& facts);

}  // namespace leanos::rules_detail
