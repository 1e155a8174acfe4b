// The Model Context Protocol over a Ledger: agents call the workflow's commands and views as
// tools, read views as resources (and are told when one changes), and start the seed's
// routines as prompts. JSON-RPC 2.0 messages in, messages out; the transport (stdio:
// tools/mcp/stdio.cpp) only moves them. Commands go through Ledger::submit, so the rules
// that refuse the CLI refuse an agent, with the rule's id and what would be right.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/ledger.h"

namespace leanos::mcp {

// The protocol versions this server speaks, newest first; `initialize` answers with the
// client's when it is one of them, else with the newest.
inline constexpr const char* kProtocolVersions[] = {"2025-11-25", "2025-06-18"};

struct Options {
  bool read_only = false;  // list and answer only the views
  std::string actor;       // who records (default: the client's name from `initialize`)
  std::string version;     // the server's, for serverInfo (default: this build's)
  // Offer the import tool: a workspace folder of the machine this server runs on, into the
  // ledger (Ledger::import_folder; a RemoteLedger sends its files), progress told per unit.
  bool import = true;
};

class Server {
 public:
  // A message for the client outside any answer (a notification); called from any thread,
  // one call at a time per server.
  using Send = std::function<void(const nlohmann::json&)>;
  Server(Ledger& ledger, Options options, Send send);
  ~Server();

  // One message from the client: the answer to a request, nothing for a notification or for
  // the client's answer to a request of ours.
  std::optional<nlohmann::json> handle(const nlohmann::json& message);
  // The answer to bytes that are not a JSON-RPC message (a parse error, a message too large).
  static nlohmann::json error(const nlohmann::json& id, int code, const std::string& message);

  // What every surface's tools are: the commands (name -> the Envelope's payload field) and
  // the views (name -> the QueryRequest's query field). For tests and the README.
  static const std::map<std::string, std::string>& command_tools();
  static const std::map<std::string, std::string>& view_tools();

 private:
  nlohmann::json initialize(const nlohmann::json& params);
  nlohmann::json list_tools() const;
  nlohmann::json call_tool(const nlohmann::json& params);
  nlohmann::json call_command(const std::string& payload_field, const nlohmann::json& arguments);
  // A command tool's arguments as the envelope it records (what the caller left out the ledger fills).
  Result<Envelope> command_of(const std::string& payload_field, const nlohmann::json& arguments) const;
  nlohmann::json call_whatif(const nlohmann::json& arguments);
  nlohmann::json call_view(const std::string& query_field, const nlohmann::json& arguments, bool goals_only = false);
  nlohmann::json call_import(const nlohmann::json& arguments, const nlohmann::json& progress_token);
  nlohmann::json list_resources();
  nlohmann::json read_resource(const nlohmann::json& params);
  nlohmann::json subscribe(const nlohmann::json& params, bool on);
  nlohmann::json list_prompts() const;
  nlohmann::json get_prompt(const nlohmann::json& params);
  // After the log grew: tells the client of each subscribed resource whose view changed.
  void log_grew();

  Ledger& ledger_;
  Options options_;
  Send send_;
  bool initialized_ = false;
  std::mutex mu_;                                   // guards subscribed_
  std::map<std::string, std::string> subscribed_;  // resource uri -> its view as last sent
  std::unique_ptr<Following> following_;            // while anything is subscribed
};

}  // namespace leanos::mcp
