#include "events/result.h"

namespace leanos {

const char* code_name(Code code) {
  switch (code) {
    case Code::ok: return "ok";
    case Code::invalid_argument: return "invalid argument";
    case Code::not_found: return "not found";
    case Code::conflict: return "conflict";
    case Code::failed_precondition: return "rejected";
    case Code::already_exists: return "already exists";
    case Code::corruption: return "corruption";
    case Code::io_error: return "I/O error";
    case Code::unavailable: return "unavailable";
    case Code::unauthenticated: return "unauthenticated";
    case Code::network: return "network";
    case Code::read_only: return "read-only";
  }
  return "unknown";
}

Status Status::rule(Code code, std::string rule_id, std::string reason, std::string hint, Params params) {
  Status s(code, hint.empty() ? reason : reason + "; " + hint);
  s.rule_ = std::move(rule_id);
  s.reason_ = std::move(reason);
  s.hint_ = std::move(hint);
  s.params_ = std::move(params);
  return s;
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace leanos
