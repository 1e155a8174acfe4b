// Status and Result: errors as values, never exceptions across a layer boundary.
//
// A Status names what was wrong and, where it can, what would be right. The CLI and the
// server turn the code into an exit code or a gRPC status.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace leanos {

enum class Code {
  ok = 0,
  invalid_argument,     // bad input: malformed JSON, negative ARR, confidence 140
  not_found,            // unknown deal, goal, assumption, stream
  conflict,             // wrong expected version
  failed_precondition,  // the rules say no: stage out of order, thread closed
  already_exists,       // an id reused with different content
  corruption,           // stored bytes that do not decode
  io_error,             // the disk or the database said no
  unavailable,          // the data folder is locked by another process
  unauthenticated,      // the server wants a (different) bearer token
  network,              // the server cannot be reached, or a subscription broke off
  read_only,            // the store stopped accepting writes after a write error (disk full)
};

const char* code_name(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status success() { return {}; }  // not ok(): s.ok() on an instance would compile and mean nothing
  static Status invalid(std::string m) { return {Code::invalid_argument, std::move(m)}; }
  static Status not_found(std::string m) { return {Code::not_found, std::move(m)}; }
  static Status conflict(std::string m) { return {Code::conflict, std::move(m)}; }
  static Status precondition(std::string m) { return {Code::failed_precondition, std::move(m)}; }
  static Status exists(std::string m) { return {Code::already_exists, std::move(m)}; }
  static Status corruption(std::string m) { return {Code::corruption, std::move(m)}; }
  static Status io(std::string m) { return {Code::io_error, std::move(m)}; }
  static Status unavailable(std::string m) { return {Code::unavailable, std::move(m)}; }
  static Status unauthenticated(std::string m) { return {Code::unauthenticated, std::move(m)}; }
  static Status network(std::string m) { return {Code::network, std::move(m)}; }

  // A rejection by a rule, as data: the rule's id (events/rules.h), its parameters, the reason
  // in domain words, and what to run next in the CLI's words. message() is both, joined.
  using Params = std::vector<std::pair<std::string, std::string>>;
  static Status rule(Code code, std::string rule_id, std::string reason, std::string hint = "", Params params = {});

  bool is_ok() const { return code_ == Code::ok; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "conflict: wrong expected version ..." — for logs and the CLI.
  std::string to_string() const;
  // The rule that refused ("" when none did), its parameters, the reason without the CLI's
  // hint (the whole message when there is no hint), and the hint.
  const std::string& rule_id() const { return rule_; }
  const Params& params() const { return params_; }
  const std::string& reason() const { return reason_.empty() ? message_ : reason_; }
  const std::string& hint() const { return hint_; }
  // One more parameter (e.g. which command of a batch was refused); the message stays.
  Status& add_param(std::string key, std::string value) {
    params_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  // The value of parameter `key`, "" for none.
  std::string param(const std::string& key) const {
    for (const auto& [k, v] : params_)
      if (k == key) return v;
    return "";
  }

 private:
  Code code_ = Code::ok;
  std::string message_;
  std::string rule_, reason_, hint_;
  Params params_;
};

// A value or the Status that explains why there is none.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}       // NOLINT: implicit by design

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // REQUIRES: !is_ok()
  const Status& status() const { return std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace leanos
