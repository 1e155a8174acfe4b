// JSON Schemas of the schema's messages, generated from their protobuf descriptors (and the
// comments of the .proto files), for the MCP server's tools: what a tool takes and what it
// answers are the messages the Command and Query RPCs carry, never written twice.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>

#include <nlohmann/json.hpp>

namespace leanos::mcp {

// Which JSON a schema describes:
//   input   what protobuf's JSON parser reads into the message: fields by their declared
//           names, enum values by name (the unspecified one left out), 64-bit integers as
//           numbers, a Timestamp as RFC 3339;
//   output  what the CLI's --json prints of a view (cli::view_json): every field, enum values
//           by their word, 64-bit integers as numbers.
enum class Way { input, output };

// The schema of `type` (an object), each property described by its comment in the .proto
// file. `depth` bounds nesting: below it a message is an object of any shape (a message that
// holds itself, or an event's payload beside the envelope).
nlohmann::json schema_of(const google::protobuf::Descriptor& type, Way way, int depth = 8);

// The comment the .proto file puts before or after an element ("leanos.v1.LeadCaptured",
// "leanos.v1.LeadCaptured.company", "leanos.v1.WON"), on one line; "" for none.
std::string comment_of(const std::string& full_name);

}  // namespace leanos::mcp
