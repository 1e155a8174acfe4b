#include "tools/cli/cli.h"

#include "tools/cli/hints.h"

#include "events/text.h"
#include "actors/queries.h"
#include "events/time.h"
#include "tools/cli/view_text.h"

#include <google/protobuf/util/json_util.h>

#include <cstdarg>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <iostream>

namespace leanos::cli {

Result<std::string> read_text_file(const std::string& path, const std::string& encoding) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot read file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return to_utf8(path, ss.str(), encoding);
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
    case Code::unauthenticated: return 10;
    case Code::network: return 11;
    case Code::read_only: return 12;
  }
  return 1;
}

int fail(const Status& status) {
  std::cerr << "leanos: " << cli_message(status) << "\n";
  return exit_code(status.code());
}

void out(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
}

Result<StoreRef> open_store(const GlobalOptions& global, Access access) {
  store::StoreOptions options;
  if (global.relaxed) options.durability = store::Durability::relaxed;
  options.master_key_file = global.master_key_file;
  std::error_code ec;
  const bool is_new = !std::filesystem::exists(std::filesystem::path(global.data) / "CURRENT", ec);
  options.create_if_missing = access != Access::read && access != Access::only_read;
  options.read_only = access == Access::only_read;
  auto s = store::EventStore::open(global.data, options);
  if (!s) {
    if (s.status().code() == Code::not_found)
      return Status::not_found("no workspace at " + global.data +
                               "; create one by recording something or with `leanos init`, or point --data (or "
                               "$LEANOS_DATA) at an existing one");
    return s.status();
  }
  if (is_new && access == Access::record) std::fprintf(stderr, "leanos: created a new workspace in %s\n", global.data.c_str());
  return StoreRef(std::move(*s));
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
  if (s.ok()) return Status::success();
  return Status::invalid("malformed JSON in " + what + ": " + std::string(s.message()) +
                         "; expected a JSON object such as {\"key\": \"value\"}");
}

Result<std::unique_ptr<Ledger>> open_ledger(const GlobalOptions& global, Access access) {
  if (!global.server.empty()) {
    if (!global.connect) return Status::unavailable("this build has no client for --server");
    return global.connect(global);
  }
  auto store = open_store(global, access);
  if (!store) return store.status();
  auto ledger = std::make_unique<LocalLedger>(std::move(*store));
  ledger->set_importer(global.importer);
  return std::unique_ptr<Ledger>(std::move(ledger));
}

int query(const GlobalOptions& global, const v1::QueryRequest& request) {
  auto answer = ask(global, request);
  if (!answer) return fail(answer.status());
  out("%s", (global.json ? view_json(*answer) : view_text(*answer)).c_str());
  return 0;
}

Result<v1::QueryReply> ask(const GlobalOptions& global, const v1::QueryRequest& request) {
  auto ledger = open_ledger(global, Access::only_read);
  if (!ledger) return ledger.status();
  return (*ledger)->query(request);
}

Result<std::string> read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found("cannot read token file " + path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return Status::invalid("token file " + path + " is empty");
  // A bearer token is printable ASCII (RFC 6750); anything else cannot go in a header.
  for (std::size_t i = 0; i < token.size(); ++i)
    if (const auto c = static_cast<unsigned char>(token[i]); c <= 0x20 || c >= 0x7f) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02x", c);
      return Status::invalid("token file " + path + " holds the byte " + byte + " at offset " + std::to_string(i) +
                             " of its first line; a token is printable ASCII, such as the one `leanos workspace create` writes");
    }
  return token;
}

std::string actor_or_default(const GlobalOptions& global) {
  if (!global.actor.empty()) return global.actor;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "cli";
}

}  // namespace leanos::cli
