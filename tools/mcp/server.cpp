// The protocol (initialize, ping, tools) and the tools: one per command, one per view, their
// schemas generated from the payload and query messages (tools/mcp/schema.h). Resources and
// prompts are in catalog.cpp.
#include "tools/mcp/server.h"

#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "events/domain.h"
#include "events/time.h"
#include "tools/bridge/import_command.h"
#include "tools/cli/view_text.h"
#include "tools/mcp/protocol.h"
#include "tools/mcp/schema.h"

namespace leanos::mcp {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// A command tool: the Envelope's payload field it records, and what it is for.
struct CommandTool {
  const char* payload;
  const char* description;
};

const std::map<std::string, CommandTool>& commands() {
  static const std::map<std::string, CommandTool> table = {
      {"goal_define", {"goal_defined", "Define a goal that spawns deals (e.g. g-mrr-50k: reach $50K MRR by a date)."}},
      {"goal_subgoal", {"subgoal_defined", "Add a subgoal to a goal (e.g. SG1: close the first 3 customers)."}},
      {"canvas_assume", {"assumption_registered", "Register a canvas assumption with its initial confidence."}},
      {"canvas_revise", {"assumption_revised", "Restate an assumption's confidence outside a deal's learning (a canvas review)."}},
      {"config_set", {"setting_changed", "Change a workspace setting (e.g. the approval threshold)."}},
      {"analysis_record", {"analysis_recorded", "Record an abductive, inductive or counterfactual analysis of threads."}},
      {"segment_icp", {"icp_defined", "Strategy: record a segment's ideal customer profile (a new version)."}},
      {"segment_narrative", {"narrative_written", "Strategy: record a segment's sales narrative (problem, solution, specifics)."}},
      {"segment_material", {"material_published", "Strategy: publish a sales material for a segment (a new version of it)."}},
      {"segment_feedback", {"material_feedback", "Materials quality: a deck approved, an email answered, a proposal accepted."}},
      {"deal_open", {"lead_captured", "Deal stage 1, input: capture a lead (company, segment, source, contact, signal)."}},
      {"deal_hypothesis", {"hypothesis_stated", "Deal stage 2: the canvas assumption this deal tests, and the initial confidence."}},
      {"deal_implication", {"implication_assessed", "Deal stage 3: ARR potential, strategic value, resource cost, priority."}},
      {"deal_qualify_score", {"qualification_scored", "Score a qualification call (the sales-qualification-support skill)."}},
      {"deal_decide", {"decision_made", "Deal stage 4: QUALIFY, DEFER or REJECT, with the reasoning and alternatives."}},
      {"deal_approve", {"decision_approved", "A human approves a decision whose impact needs approval."}},
      {"deal_action_plan", {"action_planned", "Deal stage 5: plan an action (sales:lead-intake, qualify, demo, pilot, close)."}},
      {"deal_action_start", {"action_started", "Deal stage 5: start a planned action."}},
      {"deal_action_complete", {"action_completed", "Deal stage 5: complete an action, with its result."}},
      {"deal_action_block", {"action_blocked", "Deal stage 5: an action is blocked, and why."}},
      {"deal_action_unblock", {"action_unblocked", "Deal stage 5: a blocked action can go on."}},
      {"deal_close", {"deal_closed", "Deal stage 6: the outcome (WON, LOST, STALLED) and ARR; the cycle time is derived."}},
      {"deal_learn", {"learning_recorded", "Deal stage 6: what the deal taught about an assumption; moves the canvas and goals."}},
      {"campaign_open", {"campaign_opened", "Campaign stage 1: the campaign's goal and target list (id YYYY-MM-DD-name)."}},
      {"campaign_hypothesis", {"campaign_hypothesis_stated", "Campaign stage 2: what the campaign tests."}},
      {"campaign_implication", {"campaign_implication_assessed", "Campaign stage 3: expected outcomes and cost."}},
      {"campaign_decide", {"campaign_decision_made", "Campaign stage 4: LAUNCH, DEFER or CANCEL."}},
      {"campaign_prospect", {"prospect_added", "Campaign stage 5: add a prospect company."}},
      {"campaign_contact", {"contact_added", "Campaign stage 5: add a decision-maker at a prospect."}},
      {"campaign_sequence", {"outreach_sequence_defined", "Campaign stage 5: the outreach sequence (day, channel, template)."}},
      {"campaign_sent", {"outreach_sent", "Campaign stage 5: an outreach step sent to a contact."}},
      {"campaign_response", {"response_received", "Campaign stage 5: a response; an interested one with opens_deal_id opens that deal."}},
      {"campaign_results", {"campaign_results_recorded", "Campaign stage 6: results and what they say about an assumption."}},
  };
  return table;
}

// A view tool: the QueryRequest's query field it asks, and what it shows.
const std::map<std::string, std::string>& view_descriptions() {
  static const std::map<std::string, std::string> table = {
      {"canvas", "The business canvas: each assumption's confidence, status and evidence; canvas metrics."},
      {"goal", "A goal: current against target, subgoals, milestones, risk and projected date."},
      {"metrics", "The seed's sales performance metrics (pipeline velocity, materials quality, deal metrics) with targets."},
      {"opportunities", "Content opportunities that sales learnings flagged for marketing."},
      {"deal", "A deal thread: its six stages as they stand, with dates, and the files its facts came from."},
      {"audit", "A deal's decisions: who decided, when, the inputs at the time, and what they caused."},
      {"why_canvas", "Every confidence change of a canvas assumption and the deal or review that caused it."},
      {"today", "The morning report: goals, the work queue (what needs a human), alerts, recommendations."},
      {"pipeline", "Open deals by stage and action: days in stage, priority, next action."},
      {"campaign", "A campaign thread's six stages."},
      {"campaign_contact", "A campaign's contact, with what a deal opened from them inherits."},
      {"deals", "Deals matching the filters: id, company, stage, status, days in stage, what is next."},
      {"documents", "The workspace's documents kept verbatim (canvas sections, ICPs, narratives)."},
      {"segments", "Each segment's ICP and narrative in force, and its campaigns."},
      {"files", "The workspace's files as they were (or one file's versions, with path)."},
      {"scenarios", "The saved what-if scenarios (the latest version of each), or one name's versions: what each leaves out and "
                    "adds, when it is read, who saved it when. whatif runs one by name (scenario)."},
  };
  return table;
}

const FieldDescriptor& envelope_field(const std::string& name) { return *Envelope::descriptor()->FindFieldByName(name); }
const FieldDescriptor& query_field(const std::string& name) { return *v1::QueryRequest::descriptor()->FindFieldByName(name); }

// What a command tool takes beside its payload's fields.
constexpr const char* kOccurredAt = "occurred_at";
constexpr const char* kEventId = "event_id";

nlohmann::json command_input_schema(const Descriptor& payload) {
  auto s = schema_of(payload, Way::input);
  s["properties"][kOccurredAt] = {{"type", "string"},
                                   {"description", "when it happened: a date (YYYY-MM-DD) or an RFC 3339 time, up to now; default now"}};
  s["properties"][kEventId] = {
      {"type", "string"},
      {"description", "the event's id; a retry with the same id records nothing twice (default: a new id)"}};
  return s;
}

// What a command tool answers: the stream and the events recorded, each an envelope (its
// payload an object of its type's shape).
nlohmann::json command_output_schema() {
  static const nlohmann::json s = [] {
    auto envelope = schema_of(*Envelope::descriptor(), Way::output, 1);
    return nlohmann::json{{"type", "object"},
                          {"properties",
                           {{"stream", {{"type", "string"}, {"description", "the thread's stream"}}},
                            {"idempotent_retry", {{"type", "boolean"}, {"description", "recorded before, with the same id: nothing new"}}},
                            {"events", {{"type", "array"}, {"items", envelope}}}}},
                          {"required", {"stream", "idempotent_retry", "events"}}};
  }();
  return s;
}

nlohmann::json view_input_schema(const std::string& query) {
  auto s = schema_of(*query_field(query).message_type(), Way::input);
  const auto request = schema_of(*v1::QueryRequest::descriptor(), Way::input, 1);
  for (const char* when : {"as_of", "known_at", "at_position"}) s["properties"][when] = request["properties"][when];
  return s;
}

nlohmann::json view_output_schema(const std::string& query) {
  const auto* reply = v1::QueryReply::descriptor();
  if (query == "files")  // the files in force, or one file's versions
    return {{"type", "object"},
            {"anyOf",
             {schema_of(*reply->FindFieldByName("files")->message_type(), Way::output),
              schema_of(*reply->FindFieldByName("file_log")->message_type(), Way::output)}}};
  return schema_of(*reply->FindFieldByName(query)->message_type(), Way::output);
}

// The tool's arguments as the message `field` of `into` holds them; a protocol error names
// what the parser refused.
Status fill(google::protobuf::Message& into, const FieldDescriptor& field, const nlohmann::json& arguments) {
  auto* message = into.GetReflection()->MutableMessage(&into, &field);
  google::protobuf::util::JsonParseOptions options;
  auto s = google::protobuf::util::JsonStringToMessage(arguments.dump(), message, options);
  if (s.ok()) return Status::success();
  return Status::invalid("arguments: " + std::string(s.message()) + "; the tool's inputSchema says what each field takes");
}

// A view or a refusal as a tool's result.
nlohmann::json text_result(const std::string& text) { return {{"content", {{{"type", "text"}, {"text", text}}}}}; }

}  // namespace

// The rule's refusal as a tool result the model can act on: isError, the rule and its
// parameters in _meta, and the hint with each command named by its tool.
nlohmann::json refusal(const Status& s) {
  std::string hint = s.hint();
  for (const auto& [tool, command] : commands()) {
    const std::string type = envelope_field(command.payload).message_type()->name();
    for (auto at = hint.find(type); at != std::string::npos;) {
      const bool whole = (at == 0 || !std::isalnum(static_cast<unsigned char>(hint[at - 1]))) &&
                         (at + type.size() == hint.size() || !std::isalnum(static_cast<unsigned char>(hint[at + type.size()])));
      if (whole) hint.replace(at, type.size(), tool);
      at = hint.find(type, at + (whole ? tool.size() : type.size()));
    }
  }
  std::string text = std::string(code_name(s.code())) + ": " + s.reason();
  if (!s.rule_id().empty()) text += " (rule " + s.rule_id() + ")";
  if (!hint.empty()) text += "; " + hint;
  auto out = text_result(text);
  out["isError"] = true;
  nlohmann::json meta = {{"leanos/code", code_name(s.code())}};
  if (!s.rule_id().empty()) {
    meta["leanos/rule"] = s.rule_id();
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : s.params()) params[k] = v;
    meta["leanos/params"] = params;
  }
  out["_meta"] = meta;
  return out;
}

const std::map<std::string, std::string>& Server::command_tools() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> out;
    for (const auto& [tool, command] : commands()) out.emplace(tool, command.payload);
    return out;
  }();
  return names;
}

const std::map<std::string, std::string>& Server::view_tools() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> out;
    const auto* oneof = v1::QueryRequest::descriptor()->FindOneofByName("query");
    for (int i = 0; i < oneof->field_count(); ++i) out.emplace(oneof->field(i)->name(), oneof->field(i)->name());
    return out;
  }();
  return names;
}

Server::Server(Ledger& ledger, Options options, Send send) : ledger_(ledger), options_(std::move(options)), send_(std::move(send)) {}

Server::~Server() { following_.reset(); }  // its thread calls log_grew: stopped before the rest goes

nlohmann::json Server::error(const nlohmann::json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

std::optional<nlohmann::json> Server::handle(const nlohmann::json& m) {
  if (!m.is_object()) return error(nullptr, kInvalidRequest, "a message is one JSON object (JSON-RPC 2.0; batches are not part of MCP since 2025-06-18)");
  const auto id_it = m.find("id");
  const bool has_id = id_it != m.end();
  nlohmann::json id = has_id ? *id_it : nlohmann::json(nullptr);
  if (has_id && !id.is_string() && !id.is_number_integer())
    return error(nullptr, kInvalidRequest, "the id must be a string or an integer");
  if (m.value("jsonrpc", "") != "2.0") return error(id, kInvalidRequest, "\"jsonrpc\": \"2.0\" is missing");
  const auto method_it = m.find("method");
  if (method_it == m.end()) {
    if (has_id && (m.contains("result") || m.contains("error"))) return std::nullopt;  // an answer to us: we ask nothing
    return error(id, kInvalidRequest, "a request needs a \"method\"");
  }
  if (!method_it->is_string()) return error(id, kInvalidRequest, "\"method\" must be a string");
  const std::string method = *method_it;
  const nlohmann::json params = m.contains("params") ? m["params"] : nlohmann::json::object();
  if (!params.is_object()) return error(id, kInvalidParams, "\"params\" must be an object");
  if (!has_id) {  // a notification: nothing is answered, whatever it says
    if (method == "notifications/initialized") initialized_ = true;
    return std::nullopt;
  }
  try {
    nlohmann::json result;
    if (method == "initialize") result = initialize(params);
    else if (method == "ping") result = nlohmann::json::object();
    else if (!initialized_)
      throw Protocol(kInvalidRequest, "send \"initialize\" first (then \"notifications/initialized\")");
    else if (method == "tools/list") result = list_tools();
    else if (method == "tools/call") result = call_tool(params);
    else if (method == "resources/list") result = list_resources();
    else if (method == "resources/templates/list") result = {{"resourceTemplates", resource_templates()}};
    else if (method == "resources/read") result = read_resource(params);
    else if (method == "resources/subscribe") result = subscribe(params, true);
    else if (method == "resources/unsubscribe") result = subscribe(params, false);
    else if (method == "prompts/list") result = list_prompts();
    else if (method == "prompts/get") result = get_prompt(params);
    else if (method == "logging/setLevel") result = nlohmann::json::object();
    else throw Protocol(kMethodNotFound, "no method \"" + method + "\"; this server answers initialize, ping, tools/*, resources/*, prompts/*");
    return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  } catch (const Protocol& p) {
    return error(id, p.code, p.what());
  } catch (const nlohmann::json::exception& e) {  // a parameter of the wrong JSON type
    return error(id, kInvalidParams, std::string("invalid params: ") + e.what());
  }
}

nlohmann::json Server::initialize(const nlohmann::json& params) {
  std::string version = kProtocolVersions[0];
  if (auto it = params.find("protocolVersion"); it != params.end() && it->is_string())
    for (const char* v : kProtocolVersions)
      if (*it == v) version = v;
  if (options_.actor.empty()) {
    const auto client = params.value("clientInfo", nlohmann::json::object());
    options_.actor = client.is_object() && client.value("name", nlohmann::json()).is_string() ? client.value("name", "") : "";
    if (options_.actor.empty()) options_.actor = "mcp-client";
  }
  initialized_ = true;  // answered: the client's notifications/initialized follows
  return {{"protocolVersion", version},
          {"capabilities",
           {{"tools", {{"listChanged", false}}}, {"resources", {{"subscribe", true}, {"listChanged", false}}}, {"prompts", {{"listChanged", false}}}, {"logging", nlohmann::json::object()}}},
          {"serverInfo", {{"name", "leanos-ledger"}, {"title", "LeanOS Ledger"}, {"version", options_.version.empty() ? std::string(LEANOS_VERSION) : options_.version}}},
          {"instructions", instructions(options_.read_only)}};
}

nlohmann::json Server::list_tools() const {
  nlohmann::json tools = nlohmann::json::array();
  for (const auto& [name, query] : view_tools()) {
    tools.push_back({{"name", name},
                     {"title", "view: " + name},
                     {"description", view_descriptions().at(name) +
                                         " Time travel: as_of (business date), known_at (what the ledger knew then), at_position."},
                     {"inputSchema", view_input_schema(query)},
                     {"outputSchema", view_output_schema(query)},
                     {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}});
  }
  tools.push_back({{"name", "goals"},
                   {"title", "view: goals"},
                   {"description", "Every goal defined by then: current against target, progress, risk, due date, subgoals. Time travel: "
                                   "as_of (business date), known_at (what the ledger knew then), at_position."},
                   {"inputSchema", view_input_schema("today")},
                   {"outputSchema",
                    {{"type", "object"},
                     {"properties", {{"goals", {{"type", "array"}, {"items", schema_of(*v1::GoalView::descriptor(), Way::output)}}}}}}},
                   {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}});
  {
    const auto* request = v1::WhatIfRequest::descriptor();
    std::vector<std::string> command_tools;
    for (const auto& [tool, command] : commands()) command_tools.push_back(tool);
    tools.push_back(
        {{"name", "whatif"},
         {"title", "what if: a view on a branch of the ledger"},
         {"description",
          "Counterfactual: read a view (canvas, goal, metrics, opportunities, today, pipeline, deals, segments) on a branch of the "
          "ledger beside reality — without some of what happened (a deal, a campaign, an event, a type of event from a date; "
          "with everything it caused), with commands that might happen (any command tool's arguments, dated in the past or the "
          "future, decided by the same rules) — and the fields that differ. Nothing is recorded. A command the rules refuse on "
          "the branch makes the scenario impossible: the refusal names the rule and with_index. scenario runs a saved one by name "
          "(its changes, then these); save records this scenario's definition by name once it reads (never its effects)."},
         {"inputSchema",
          {{"type", "object"},
           {"properties",
            {{"query", schema_of(*request->FindFieldByName("query")->message_type(), Way::input, 3)},
             {"without", {{"type", "array"}, {"items", schema_of(*request->FindFieldByName("without")->message_type(), Way::input)}}},
             {"with",
              {{"type", "array"},
               {"description", comment_of("leanos.v1.WhatIfRequest.with")},
               {"items",
                {{"type", "object"},
                 {"properties",
                  {{"tool", {{"type", "string"}, {"enum", command_tools}, {"description", "a command tool of this server"}}},
                   {"arguments", {{"type", "object"}, {"description", "what that tool takes (its inputSchema), occurred_at included"}}}}},
                 {"required", {"tool", "arguments"}}}}}},
             {"scenario", {{"type", "string"}, {"description", comment_of("leanos.v1.WhatIfRequest.scenario")}}},
             {"save", {{"type", "string"}, {"description", comment_of("leanos.v1.WhatIfRequest.save")}}},
             {"description", {{"type", "string"}, {"description", comment_of("leanos.v1.WhatIfRequest.description")}}}}},
           {"required", {"query"}},
           {"additionalProperties", false}}},
         {"outputSchema",
          {{"type", "object"},
           {"properties",
            {{"reality", {{"type", "object"}, {"description", "the view in reality, as the view's own tool answers it"}}},
             {"branch", {{"type", "object"}, {"description", "the same view on the branch"}}},
             {"differences",
              {{"type", "array"},
               {"items",
                {{"type", "object"},
                 {"properties",
                  {{"path", {{"type", "string"}, {"description", comment_of("leanos.v1.Difference")}}},
                   {"reality", {{"type", "string"}}},
                   {"branch", {{"type", "string"}}}}},
                 {"required", {"path", "reality", "branch"}}}}}},
             {"events_left_out", {{"type", "integer"}, {"description", comment_of("leanos.v1.WhatIfReply.events_left_out")}}},
             {"events_added", {{"type", "integer"}, {"description", comment_of("leanos.v1.WhatIfReply.events_added")}}},
             {"scenario", schema_of(*v1::SavedScenario::descriptor(), Way::output, 1)},
             {"saved", schema_of(*v1::SavedScenario::descriptor(), Way::output, 1)}}},
           {"required", {"reality", "branch", "differences", "events_left_out", "events_added"}}}},
         // Saving records a definition: read-only only where saving is refused.
         {"annotations", {{"readOnlyHint", options_.read_only}, {"openWorldHint", false}}}});
  }
  if (options_.import && !options_.read_only)
    tools.push_back(
        {{"name", "import"},
         {"title", "import a LeanOS workspace folder"},
         {"description",
          "Import a LeanOS workspace folder of this machine (strategy/, threads/): every file kept as written, and the facts its "
          "files state recorded through the rules, only what is new. The report names each fact skipped, each warning (what "
          "reading assumed) and each conflict by file and line; exit_code 0 clean, 13 facts skipped, 14 conflicts, 15 warnings. "
          "Sends progress notifications when the call has a progressToken."},
         {"inputSchema",
          {{"type", "object"},
           {"properties",
            {{"dir", {{"type", "string"}, {"description", "the workspace folder, an absolute path on the server's machine"}}},
             {"strict", {{"type", "boolean"}, {"description", "skip (and name) a fact whose reading had to assume something"}}},
             {"accept_files", {{"type", "boolean"}, {"description", "correct a recorded deal fact a file now tells otherwise (the ledger follows the file, the audit keeps both); else it is a conflict and the ledger keeps its fact"}}}}},
           {"required", {"dir"}},
           {"additionalProperties", false}}},
         {"outputSchema",
          {{"type", "object"},
           {"properties",
            {{"exit_code", {{"type", "integer"}}},
             {"events_recorded", {{"type", "integer"}}},
             {"files_read", {{"type", "integer"}}},
             {"facts_skipped", {{"type", "integer"}}},
             {"conflicts", {{"type", "integer"}}},
             {"warnings", {{"type", "integer"}}}}},
           {"required", {"exit_code", "events_recorded"}}}},
         {"annotations", {{"readOnlyHint", false}, {"destructiveHint", false}, {"idempotentHint", true}, {"openWorldHint", false}}}});
  if (!options_.read_only)
    for (const auto& [name, command] : commands()) {
      const auto& payload = *envelope_field(command.payload).message_type();
      tools.push_back({{"name", name},
                       {"title", "record " + payload.name()},
                       {"description", std::string(command.description) + " Records " + payload.name() +
                                           " through the workflow's rules: a refusal names its rule and what would be right."},
                       {"inputSchema", command_input_schema(payload)},
                       {"outputSchema", command_output_schema()},
                       {"annotations", {{"readOnlyHint", false}, {"destructiveHint", false}, {"idempotentHint", true}, {"openWorldHint", false}}}});
    }
  return {{"tools", tools}};
}

nlohmann::json Server::call_tool(const nlohmann::json& params) {
  const auto name_it = params.find("name");
  if (name_it == params.end() || !name_it->is_string()) throw Protocol(kInvalidParams, "tools/call needs the tool's \"name\"");
  const std::string name = *name_it;
  nlohmann::json arguments = params.contains("arguments") ? params["arguments"] : nlohmann::json::object();
  if (!arguments.is_object()) throw Protocol(kInvalidParams, "\"arguments\" must be an object");
  if (auto v = view_tools().find(name); v != view_tools().end()) return call_view(v->second, arguments);
  if (name == "goals") return call_view("today", arguments, true);
  if (name == "whatif") return call_whatif(arguments);
  if (name == "import" && options_.import) {
    if (options_.read_only) return refusal(Status::invalid("import records, and this server is read-only (leanos mcp --read-only)"));
    const auto meta = params.value("_meta", nlohmann::json::object());
    return call_import(arguments, meta.is_object() && meta.contains("progressToken") ? meta["progressToken"] : nlohmann::json());
  }
  if (auto c = commands().find(name); c != commands().end()) {
    if (options_.read_only)
      return refusal(Status::invalid(name + " records, and this server is read-only (leanos mcp --read-only): it offers the views only"));
    return call_command(c->second.payload, arguments);
  }
  throw Protocol(kInvalidParams, "no tool \"" + name + "\"; tools/list lists them");
}

Result<Envelope> Server::command_of(const std::string& payload_field, const nlohmann::json& arguments) const {
  // What a caller leaves out (the id, the time, the type's name) the ledger fills, as for
  // every surface.
  if (!arguments.is_object()) return Status::invalid("a command's arguments are an object of its payload's fields");
  nlohmann::json payload = arguments;
  Envelope command;
  if (auto it = payload.find(kOccurredAt); it != payload.end()) {
    if (!it->is_string()) return Status::invalid("occurred_at must be a date or time as text, e.g. \"2026-03-01\"");
    auto t = parse_time(it->get<std::string>());
    if (!t) return Status(t.status().code(), "occurred_at: " + t.status().message());
    to_timestamp(*t, command.mutable_occurred_at());
    payload.erase(it);
  }
  if (auto it = payload.find(kEventId); it != payload.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) return Status::invalid("event_id must be a non-empty string");
    command.set_event_id(it->get<std::string>());
    payload.erase(it);
  }
  if (auto s = fill(command, envelope_field(payload_field), payload); !s) return s;
  command.set_actor(options_.actor);
  return command;
}

nlohmann::json Server::call_whatif(const nlohmann::json& arguments) {
  v1::WhatIfRequest request;
  for (const auto& [key, value] : arguments.items())
    if (key != "query" && key != "without" && key != "with" && key != "scenario" && key != "save" && key != "description")
      return refusal(Status::invalid("arguments: '" + key + "' is not one whatif takes (query, without, with, scenario, save, description)"));
  for (const char* key : {"scenario", "save", "description"})
    if (arguments.contains(key) && !arguments[key].is_string()) return refusal(Status::invalid(std::string(key) + " must be a string"));
  request.set_scenario(arguments.value("scenario", ""));
  request.set_save(arguments.value("save", ""));
  request.set_description(arguments.value("description", ""));
  request.set_actor(options_.actor);
  if (!request.save().empty() && options_.read_only)
    return refusal(Status::precondition("this server is read-only (mcp --read-only): it saves no scenario; leave save out"));
  if (!arguments.contains("query") || !arguments["query"].is_object())
    return refusal(Status::invalid("query: give the view to read on both sides, e.g. {\"goal\": {\"goal_id\": \"g-mrr-50k\"}}"));
  if (auto s = fill(request, *v1::WhatIfRequest::descriptor()->FindFieldByName("query"), arguments["query"]); !s) return refusal(s);
  const auto without = arguments.value("without", nlohmann::json::array());
  if (!without.is_array()) return refusal(Status::invalid("without must be an array of {deal_id | campaign_id | event_id | type_from}"));
  for (const auto& w : without) {
    auto parsed = google::protobuf::util::JsonStringToMessage(w.dump(), request.add_without());
    if (!parsed.ok()) return refusal(Status::invalid("without: " + std::string(parsed.message())));
  }
  const auto with = arguments.value("with", nlohmann::json::array());
  if (!with.is_array()) return refusal(Status::invalid("with must be an array of {tool, arguments}: a command tool and what it takes"));
  for (std::size_t i = 0; i < with.size(); ++i) {
    const auto& w = with[i];
    const std::string tool = w.is_object() ? w.value("tool", "") : "";
    auto c = commands().find(tool);
    if (c == commands().end())
      return refusal(Status::invalid("with[" + std::to_string(i) + "].tool: '" + tool + "' is not a command tool (deal_close, canvas_revise, …)"));
    auto command = command_of(c->second.payload, w.value("arguments", nlohmann::json::object()));
    if (!command) return refusal(Status(command.status().code(), "with[" + std::to_string(i) + "]: " + command.status().message()));
    *request.add_with() = std::move(*command);
  }
  auto reply = ledger_.what_if(request);
  if (!reply) return refusal(reply.status());
  std::string text = "what if: " + std::to_string(reply->events_left_out()) + " events left out, " + std::to_string(reply->events_added()) +
                     " added; " +
                     (reply->has_saved() ? "the scenario is saved as " + reply->saved().name() + ", version " + std::to_string(reply->saved().version())
                                         : std::string("nothing recorded")) +
                     "\n" + cli::view_text(reply->branch());
  for (const auto& d : reply->differences()) text += d.path() + ": " + d.reality() + " -> " + d.branch() + "\n";
  auto result = text_result(text);
  result["structuredContent"] = cli::whatif_tree(*reply);
  return result;
}

nlohmann::json Server::call_command(const std::string& payload_field, const nlohmann::json& arguments) {
  auto command = command_of(payload_field, arguments);
  if (!command) return refusal(command.status());
  auto handled = ledger_.submit({std::move(*command)});
  if (!handled) return refusal(handled.status());
  nlohmann::json out = {{"stream", handled->stream}, {"idempotent_retry", handled->idempotent_retry}, {"events", nlohmann::json::array()}};
  std::string text;
  for (const auto& e : handled->events) {
    out["events"].push_back(cli::message_view_json(e));
    text += std::string(handled->idempotent_retry ? "already recorded: " : "recorded ") + e.type() + " in " +
            (e.stream().empty() ? handled->stream : e.stream()) + " at position " + std::to_string(e.position()) + "\n";
  }
  auto result = text_result(text);
  result["structuredContent"] = std::move(out);
  return result;
}

nlohmann::json Server::call_import(const nlohmann::json& arguments, const nlohmann::json& token) {
  if (!arguments.contains("dir") || !arguments["dir"].is_string() || arguments["dir"].get<std::string>().empty())
    return refusal(Status::invalid("dir: give the workspace folder, an absolute path on the server's machine"));
  for (const auto& [key, value] : arguments.items())
    if (key != "dir" && key != "strict" && key != "accept_files")
      return refusal(Status::invalid("arguments: '" + key + "' is not one import takes (dir, strict, accept_files)"));
  for (const char* flag : {"strict", "accept_files"})
    if (arguments.contains(flag) && !arguments[flag].is_boolean()) return refusal(Status::invalid(std::string(flag) + " must be true or false"));
  ImportFolder request{arguments["dir"], {}, nullptr};
  request.options.set_strict(arguments.value("strict", false));
  request.options.set_accept_files(arguments.value("accept_files", false));
  request.options.set_actor(options_.actor);
  if (token.is_string() || token.is_number_integer())
    request.progress = [this, &token](std::size_t done, std::size_t total, const std::string& unit) {
      send_({{"jsonrpc", "2.0"},
             {"method", "notifications/progress"},
             {"params", {{"progressToken", token}, {"progress", done}, {"total", total}, {"message", unit}}}});
    };
  auto imported = ledger_.import_folder(request);
  if (!imported) return refusal(imported.status());
  const auto& r = *imported;
  std::string text = "imported " + std::to_string(r.events_recorded()) + " events from " + std::to_string(r.files_read()) + " files; " +
                     std::to_string(r.facts_skipped()) + " facts skipped; " + std::to_string(r.warnings()) + " warnings; " +
                     std::to_string(r.conflicts()) + " conflicts (exit code " + std::to_string(r.exit_code()) + ")";
  auto result = text_result(text);
  result["structuredContent"] = cli::report_json(r);
  return result;
}

nlohmann::json Server::call_view(const std::string& query_field_name, const nlohmann::json& arguments, bool goals_only) {
  v1::QueryRequest request;
  nlohmann::json query = arguments;
  if (auto it = query.find("as_of"); it != query.end()) {
    if (!it->is_string()) return refusal(Status::invalid("as_of must be a date or time as text, e.g. \"2026-03-01\""));
    request.set_as_of(*it), query.erase(it);
  }
  if (auto it = query.find("known_at"); it != query.end()) {
    if (!it->is_string()) return refusal(Status::invalid("known_at must be a date or time as text, e.g. \"2026-04-01T12:00:00Z\""));
    request.set_known_at(*it), query.erase(it);
  }
  if (auto it = query.find("at_position"); it != query.end()) {
    if (!it->is_number_unsigned()) return refusal(Status::invalid("at_position must be a log position (a whole number from 1)"));
    request.set_at_position(*it), query.erase(it);
  }
  if (auto s = fill(request, query_field(query_field_name), query); !s) return refusal(s);
  auto reply = ledger_.query(request);
  if (!reply) return refusal(reply.status());
  auto view = cli::view_tree(*reply);
  if (goals_only) {  // the today view's goals, on their own (as `goal list` and /api/v1/goals)
    auto result = text_result(cli::goals_text(reply->today()));
    result["structuredContent"] = {{"goals", view["goals"]}};
    return result;
  }
  auto result = text_result(cli::view_text(*reply));
  result["structuredContent"] = std::move(view);
  return result;
}

}  // namespace leanos::mcp
