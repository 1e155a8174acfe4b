// The typed views (proto/leanos/v1/views.proto) as text for a person. JSON is the view
// itself in protobuf's JSON mapping (cli::view_json); nothing here decides anything.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "leanos/v1/query.pb.h"
#include "leanos/v1/whatif.pb.h"

namespace leanos::cli {

std::string canvas_text(const v1::CanvasView& view);
std::string goal_text(const v1::GoalView& goal);
std::string metrics_text(const v1::MetricsView& view);
std::string opportunities_text(const v1::OpportunitiesView& view);
std::string today_text(const v1::TodayView& view);
// The goals of the today view, one line each and their subgoals (`goal list`, today's GOALS).
std::string goals_text(const v1::TodayView& view);
std::string pipeline_text(const v1::PipelineView& view);
std::string deal_list_text(const v1::DealList& view);
std::string deal_thread_text(const v1::DealThreadView& view);
std::string campaign_view_text(const v1::CampaignView& view);
std::string audit_text(const v1::AuditView& view);
std::string assumption_history_text(const v1::AssumptionHistoryView& view);
std::string scenarios_text(const v1::ScenariosView& view);
// A scenario's `without` as `whatif --without` takes it (a deal id, campaign:ID, event:ID, TYPE@DATE).
std::string without_text(const v1::Without& without);

// The reply's view as text, or as one line of JSON (every field, defaults included).
std::string view_text(const v1::QueryReply& reply);
std::string view_json(const v1::QueryReply& reply);
// The same JSON as a tree, for a surface that adds to it or embeds it (no print and parse).
nlohmann::json view_tree(const v1::QueryReply& reply);
// A what-if's answer: {"reality": view, "branch": view, "differences": [{path, reality,
// branch}], "events_left_out", "events_added"} (the CLI's --json, the HTTP API, MCP).
nlohmann::json whatif_tree(const v1::WhatIfReply& reply);
// Any message as view_json prints a view's (an event recorded, for the MCP server's tools).
nlohmann::json message_view_json(const google::protobuf::Message& message);

}  // namespace leanos::cli
