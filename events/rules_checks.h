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
// A field of the payload that is wrong (rule::kInvalidField): the reason names it by `field`
// (and `other`, the field it was compared with).
Status invalid_field(const char* field, std::string reason, const char* other = nullptr);
// A date as the rules' messages give it (YYYY-MM-DD).
std::string date_of(Micros t);
// Field checks: `field` is the payload's field name (rule::kInvalidField).
Status check_percent(const char* field, std::int64_t v);
Status check_unit(const char* field, double v);
Status check_money(const char* field, std::int64_t v);
Status check_text(const char* field, const std::string& v);
Status unknown_assumption(const std::string& id, const Facts& facts);
Status check_goal_link(const std::string& goal, const std::string& subgoal, const Facts& facts);
Status deal_must_exist(const DealState& s, const std::string& id);
// A correction of a deal's fact (events/rules_correction.cpp), from decide_deal.
Result<Events> decide_correction(const DealState& s, const Envelope& c, const Facts& facts);

}  // namespace leanos::rules_detail
