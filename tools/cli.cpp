#include "tools/cli.h"

#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <iostream>

namespace leanos::cli {

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found("cannot read file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int exit_code(Code code) {
  switch (code) {
    case Code::ok: return 0;
    case Code::invalid_argument: return 2;
    case Code::not_found: return 3;
    case Code::conflict: return 4;
    case Code::failed_precondition: return 5;
    case Code::already_exists: return 6;
    case Code::corruption: return 7;
    case Code::io_error: return 8;
    case Code::unavailable: return 9;
  }
  return 1;
}

int fail(const Status& status) {
  std::cerr << "leanos: " << status.to_string() << "\n";
  return exit_code(status.code());
}

Result<std::unique_ptr<store::EventStore>> open_store(const GlobalOptions& global) {
  store::StoreOptions options;
  if (global.relaxed) options.durability = store::Durability::relaxed;
  return store::EventStore::open(global.data, options);
}

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  auto s = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!s.ok()) return "{\"error\":\"cannot print " + message.GetTypeName() + " as JSON\"}";
  return out;
}

Status from_json(const std::string& text, google::protobuf::Message* message, const std::string& what) {
  auto s = google::protobuf::util::JsonStringToMessage(text, message);
  if (s.ok()) return Status::ok();
  return Status::invalid("malformed JSON in " + what + ": " + std::string(s.message()) +
                         "; expected a JSON object such as {\"key\": \"value\"}");
}

namespace {
RemoteSubmit& remote_slot() {
  static RemoteSubmit submit;
  return submit;
}
}  // namespace

void set_remote_submit(RemoteSubmit submit) { remote_slot() = std::move(submit); }
const RemoteSubmit& remote_submit() { return remote_slot(); }

std::string actor_or_default(const GlobalOptions& global) {
  if (!global.actor.empty()) return global.actor;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "cli";
}

}  // namespace leanos::cli
