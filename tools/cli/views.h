// Small helpers for what the CLI prints.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "events/thread.h"

namespace leanos::cli {

// protobuf's JSON mapping of a message, as a JSON value.
nlohmann::json proto_json(const google::protobuf::Message& m);


// "$1,100,000"
std::string dollars(std::int64_t v);
// A goal metric's amount: a count of customers, else dollars.
std::string amount(const std::string& metric, std::int64_t v);
// "2026-02-25"
std::string date_of(const google::protobuf::Timestamp& t);

}  // namespace leanos::cli
