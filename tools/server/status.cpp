#include "tools/server/status.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace leanos::cli {

grpc::Status to_grpc(const Status& s) {
  using grpc::StatusCode;
  StatusCode code = StatusCode::UNKNOWN;
  switch (s.code()) {
    case Code::ok: return grpc::Status::OK;
    case Code::invalid_argument: code = StatusCode::INVALID_ARGUMENT; break;
    case Code::not_found: code = StatusCode::NOT_FOUND; break;
    case Code::conflict: code = StatusCode::FAILED_PRECONDITION; break;
    case Code::failed_precondition: code = StatusCode::FAILED_PRECONDITION; break;
    case Code::already_exists: code = StatusCode::ALREADY_EXISTS; break;
    case Code::corruption: code = StatusCode::DATA_LOSS; break;
    case Code::io_error: code = StatusCode::INTERNAL; break;
    case Code::unavailable: code = StatusCode::UNAVAILABLE; break;
    case Code::unauthenticated: code = StatusCode::UNAUTHENTICATED; break;
    case Code::network: code = StatusCode::UNAVAILABLE; break;
    case Code::read_only: code = StatusCode::RESOURCE_EXHAUSTED; break;
  }
  if (s.rule_id().empty()) return {code, s.to_string()};
  // A rule's rejection: the reason in domain words, and the rule as data in the details
  // (google.rpc.Status with a google.rpc.ErrorInfo), for a client to branch on.
  const std::string message = std::string(code_name(s.code())) + ": " + s.reason();
  google::rpc::ErrorInfo info;
  info.set_reason(s.rule_id());
  info.set_domain("leanos.v1");
  for (const auto& [key, value] : s.params()) (*info.mutable_metadata())[key] = value;
  if (!s.hint().empty()) (*info.mutable_metadata())["hint"] = s.hint();
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  return {code, message, details.SerializeAsString()};
}

}  // namespace leanos::cli
