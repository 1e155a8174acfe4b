// Human and JSON renderings of thread state, shared by `show` commands.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "events/thread.h"

namespace leanos::cli {

// protobuf's JSON mapping of a message, as a JSON value.
nlohmann::json proto_json(const google::protobuf::Message& m);

nlohmann::json deal_json(const DealState& d);
std::string deal_text(const DealState& d);
nlohmann::json campaign_json(const CampaignState& c);
std::string campaign_text(const CampaignState& c);

// "$1,100,000"
std::string dollars(std::int64_t v);

}  // namespace leanos::cli
