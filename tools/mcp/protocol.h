// What the MCP server's parts share inside tools/mcp: JSON-RPC's error codes, the protocol
// error a handler throws (caught in Server::handle, never outside it), and the parts of the
// catalog (catalog.cpp) that the protocol (server.cpp) lists.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "events/result.h"

namespace leanos::mcp {

// JSON-RPC 2.0's codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
// MCP's: a resource that does not exist.
inline constexpr int kResourceNotFound = -32002;

struct Protocol : std::runtime_error {
  Protocol(int c, const std::string& message) : std::runtime_error(message), code(c) {}
  int code;
};

// A refusal (a rule's, a bad argument's) as a tool's result: isError, the rule in _meta.
nlohmann::json refusal(const Status& status);
// The resource templates (leanos://deals/{deal_id}, ...).
nlohmann::json resource_templates();
// What the server tells a model at `initialize`: the workflow, and how the tools map to it.
std::string instructions(bool read_only);

}  // namespace leanos::mcp
