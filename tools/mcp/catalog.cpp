// The MCP server's resources (the views by URI, subscribed to through the ledger's own
// feed) and prompts (the seed's routines, filled from the views).
#include <spdlog/spdlog.h>

#include <google/protobuf/util/json_util.h>

#include "tools/cli/view_text.h"
#include "tools/mcp/protocol.h"
#include "tools/mcp/server.h"

namespace leanos::mcp {

namespace {

constexpr const char* kScheme = "leanos://";

std::string percent_decoded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The views a resource URI names: leanos://KIND[/ID][?as_of=D&known_at=T&at_position=N].
struct Kind {
  const char* name;
  const char* query;     // the QueryRequest's query field
  const char* id_field;  // the query's field that /ID fills ("" when the kind takes none)
  bool id_required;
  const char* description;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> table = {
      {"canvas", "canvas", "", false, "the business canvas: assumptions, confidence, evidence"},
      {"today", "today", "", false, "the morning report: goals, work queue, alerts, recommendations"},
      {"pipeline", "pipeline", "segment", false, "open deals by stage (leanos://pipeline/SEGMENT for one segment)"},
      {"metrics", "metrics", "", false, "the sales performance metrics with their targets"},
      {"deals", "deals", "", false, "every deal: stage, status, days in stage, what is next"},
      {"segments", "segments", "", false, "each segment's ICP and narrative in force"},
      {"opportunities", "opportunities", "", false, "content opportunities flagged for marketing"},
      {"documents", "documents", "", false, "the workspace's documents kept verbatim"},
      {"files", "files", "path", false, "the workspace's files (leanos://files/PATH: one file's versions)"},
  };
  return table;
}

struct Template {
  const char* kind;
  const char* query;
  const char* id_field;
  const char* uri;
  const char* description;
};

const std::vector<Template>& templates() {
  static const std::vector<Template> table = {
      {"deals", "deal", "deal_id", "leanos://deals/{deal_id}", "a deal thread: its six stages, dates and sources"},
      {"goals", "goal", "goal_id", "leanos://goals/{goal_id}", "a goal: current against target, subgoals, risk"},
      {"campaigns", "campaign", "campaign_id", "leanos://campaigns/{campaign_id}", "a campaign thread's six stages"},
      {"audit", "audit", "deal_id", "leanos://audit/{deal_id}", "a deal's decisions: who, when, the inputs then"},
      {"why", "why_canvas", "assumption_id", "leanos://why/{assumption_id}", "every confidence change of an assumption and its cause"},
  };
  return table;
}

v1::QueryRequest request_of(const std::string& uri) {
  if (uri.rfind(kScheme, 0) != 0) throw Protocol(kResourceNotFound, "no resource " + uri + ": resources are leanos://...");
  std::string rest = uri.substr(std::string(kScheme).size()), query;
  if (auto q = rest.find('?'); q != std::string::npos) query = rest.substr(q + 1), rest.resize(q);
  const auto slash = rest.find('/');
  const std::string kind = rest.substr(0, slash);
  const std::string id = slash == std::string::npos ? "" : percent_decoded(rest.substr(slash + 1));
  const char* query_field = nullptr;
  const char* id_field = "";
  for (const auto& k : kinds())
    if (kind == k.name && (id.empty() || *k.id_field)) query_field = k.query, id_field = id.empty() ? "" : k.id_field;
  for (const auto& t : templates())
    if (kind == t.kind && !id.empty()) query_field = t.query, id_field = t.id_field;
  if (!query_field || (slash != std::string::npos && id.empty()))
    throw Protocol(kResourceNotFound, "no resource " + uri + "; resources/list and resources/templates/list name them");
  v1::QueryRequest request;
  const auto* field = v1::QueryRequest::descriptor()->FindFieldByName(query_field);
  auto* message = request.GetReflection()->MutableMessage(&request, field);
  if (*id_field) message->GetReflection()->SetString(message, message->GetDescriptor()->FindFieldByName(id_field), id);
  for (std::size_t at = 0; at < query.size();) {
    auto end = query.find('&', at);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(at, end - at);
    at = end + 1;
    const auto eq = pair.find('=');
    const std::string key = pair.substr(0, eq), value = eq == std::string::npos ? "" : percent_decoded(pair.substr(eq + 1));
    if (key == "as_of") request.set_as_of(value);
    else if (key == "known_at") request.set_known_at(value);
    else if (key == "at_position" && !value.empty() && value.find_first_not_of("0123456789") == std::string::npos)
      request.set_at_position(std::stoull(value));
    else throw Protocol(kInvalidParams, uri + ": '" + pair + "' is not as_of=DATE, known_at=TIME or at_position=N");
  }
  return request;
}

// The view a URI names, as the CLI's --json prints it.
std::string read_view(Ledger& ledger, const std::string& uri) {
  auto reply = ledger.query(request_of(uri));
  if (!reply) {
    const auto& s = reply.status();
    throw Protocol(s.code() == Code::not_found ? kResourceNotFound : s.code() == Code::invalid_argument ? kInvalidParams : -32603,
                   uri + ": " + s.message());
  }
  return cli::view_json(*reply);
}

std::string view_text_of(Ledger& ledger, v1::QueryRequest request) {
  auto reply = ledger.query(request);
  if (!reply) throw Protocol(reply.status().code() == Code::not_found ? kInvalidParams : -32603, reply.status().message());
  return cli::view_text(*reply);
}

}  // namespace

nlohmann::json resource_templates() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : templates())
    out.push_back({{"uriTemplate", t.uri}, {"name", t.query}, {"description", std::string(t.description) + "; add ?as_of=DATE or ?known_at=TIME to travel in time"}, {"mimeType", "application/json"}});
  return out;
}

nlohmann::json Server::list_resources() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& k : kinds())
    out.push_back({{"uri", std::string(kScheme) + k.name}, {"name", k.name}, {"description", k.description}, {"mimeType", "application/json"}});
  // Each deal, so that a client can show them without knowing the ids.
  v1::QueryRequest request;
  request.mutable_deals();
  if (auto reply = ledger_.query(request); reply && reply->has_deals())
    for (const auto& d : reply->deals().deals())
      out.push_back({{"uri", std::string(kScheme) + "deals/" + d.deal_id()},
                     {"name", d.deal_id()},
                     {"title", d.company()},
                     {"description", "the deal thread of " + d.company()},
                     {"mimeType", "application/json"}});
  return {{"resources", out}};
}

nlohmann::json Server::read_resource(const nlohmann::json& params) {
  if (!params.contains("uri") || !params["uri"].is_string()) throw Protocol(kInvalidParams, "resources/read needs a \"uri\"");
  const std::string uri = params["uri"];
  return {{"contents", {{{"uri", uri}, {"mimeType", "application/json"}, {"text", read_view(ledger_, uri)}}}}};
}

nlohmann::json Server::subscribe(const nlohmann::json& params, bool on) {
  if (!params.contains("uri") || !params["uri"].is_string()) throw Protocol(kInvalidParams, "a subscription needs a \"uri\"");
  const std::string uri = params["uri"];
  if (!on) {
    std::lock_guard lock(mu_);
    subscribed_.erase(uri);
    return nlohmann::json::object();
  }
  std::string view = read_view(ledger_, uri);  // a URI that names nothing is refused now, not at the first change
  {
    std::lock_guard lock(mu_);
    subscribed_[uri] = std::move(view);
  }
  if (!following_) {
    auto f = ledger_.follow(0, [this](const std::vector<Envelope>&) { log_grew(); },
                            [](const Status& s) { spdlog::error("mcp: the ledger's feed ended: {}; subscriptions get no more updates", s.message()); });
    if (!f) throw Protocol(-32603, "cannot follow the ledger: " + f.status().message());
    following_ = std::move(*f);
  }
  return nlohmann::json::object();
}

void Server::log_grew() {
  std::map<std::string, std::string> seen;
  {
    std::lock_guard lock(mu_);
    seen = subscribed_;
  }
  for (const auto& [uri, before] : seen) {
    std::string now;
    try {
      now = read_view(ledger_, uri);
    } catch (const Protocol& p) {
      now = std::string("error: ") + p.what();  // a view that stopped answering changed too
    }
    if (now == before) continue;
    {
      std::lock_guard lock(mu_);
      auto it = subscribed_.find(uri);
      if (it == subscribed_.end()) continue;  // unsubscribed meanwhile
      it->second = now;
    }
    send_({{"jsonrpc", "2.0"}, {"method", "notifications/resources/updated"}, {"params", {{"uri", uri}}}});
  }
}

// ---- prompts: the seed's routines ---------------------------------------------------------

namespace {

struct Prompt {
  const char* name;
  const char* title;
  const char* description;
  const char* argument;  // "" for none
  bool required;
};

const std::vector<Prompt>& prompts() {
  static const std::vector<Prompt> table = {
      {"morning_review", "Morning review", "Work through today's report: what needs a human, alerts, recommendations.", "", false},
      {"qualify_lead", "Qualify a lead", "Take a deal from input through hypothesis and implication to a decision.", "deal_id", true},
      {"record_learning", "Record a learning", "Close a deal's loop: its outcome and what it taught about each assumption it tested.", "deal_id", true},
      {"weekly_goal_review", "Weekly goal review", "Review a goal (or every goal): progress, risk, the deals it spawned, what to change.", "goal_id", false},
  };
  return table;
}

}  // namespace

nlohmann::json Server::list_prompts() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : prompts()) {
    nlohmann::json prompt = {{"name", p.name}, {"title", p.title}, {"description", p.description}};
    if (*p.argument)
      prompt["arguments"] = {{{"name", p.argument}, {"description", std::string("the ") + (std::string(p.argument) == "deal_id" ? "deal" : "goal") + "'s id"}, {"required", p.required}}};
    out.push_back(prompt);
  }
  return {{"prompts", out}};
}

nlohmann::json Server::get_prompt(const nlohmann::json& params) {
  const std::string name = params.value("name", "");
  const auto args = params.value("arguments", nlohmann::json::object());
  auto arg = [&](const char* key) -> std::string {
    return args.is_object() && args.contains(key) && args[key].is_string() ? args[key].get<std::string>() : "";
  };
  const Prompt* prompt = nullptr;
  for (const auto& p : prompts())
    if (name == p.name) prompt = &p;
  if (!prompt) throw Protocol(kInvalidParams, "no prompt \"" + name + "\"; prompts/list lists them");
  if (prompt->required && arg(prompt->argument).empty())
    throw Protocol(kInvalidParams, "prompt " + name + " needs the argument " + prompt->argument);

  v1::QueryRequest q;
  std::string text;
  if (name == "morning_review") {
    q.mutable_today();
    text = "Here is today's report from the LeanOS ledger:\n\n" + view_text_of(ledger_, q) +
           "\nWork through it: for each item of the work queue say what it needs and who; act on what an agent may do "
           "with the tools (deal_action_start, deal_action_complete, ...), and list what needs a human. Explain each "
           "alert and follow or reject each recommendation with a reason.";
  } else if (name == "qualify_lead") {
    const std::string id = arg("deal_id");
    q.mutable_deal()->set_deal_id(id);
    const std::string deal = view_text_of(ledger_, q);
    q.mutable_canvas();
    text = "Qualify the lead " + id + ". The deal as the ledger has it:\n\n" + deal + "\nThe canvas:\n\n" + view_text_of(ledger_, q) +
           "\nState which canvas assumption it tests and the initial confidence (deal_hypothesis), quantify ARR potential, "
           "strategic value, resource cost and priority (deal_implication), then decide QUALIFY, DEFER or REJECT with the "
           "alternatives you considered (deal_decide). If a rule refuses a step, read its reason and do what it says.";
  } else if (name == "record_learning") {
    const std::string id = arg("deal_id");
    q.mutable_deal()->set_deal_id(id);
    text = "Record what deal " + id + " taught. The deal as the ledger has it:\n\n" + view_text_of(ledger_, q) +
           "\nIf it has no outcome yet, record it (deal_close: WON with its ARR, LOST or STALLED). Then for each assumption "
           "it tested record the result (VALIDATED, INVALIDATED or PARTIAL), the new confidence and the evidence "
           "(deal_learn). The canvas and the goals it serves follow on their own; read them back (canvas, goal).";
  } else {
    const std::string id = arg("goal_id");
    if (id.empty()) q.mutable_today();
    else q.mutable_goal()->set_goal_id(id);
    const std::string goal = view_text_of(ledger_, q);
    q.mutable_metrics();
    text = "Weekly review of " + (id.empty() ? std::string("every goal") : "goal " + id) + ":\n\n" + goal + "\nThe metrics:\n\n" +
           view_text_of(ledger_, q) +
           "\nSay whether each goal is on track, what puts it at risk, which deals move it, and what to change this week "
           "(new deals or campaigns, assumptions to revisit with canvas_revise).";
  }
  return {{"description", prompt->description}, {"messages", {{{"role", "user"}, {"content", {{"type", "text"}, {"text", text}}}}}}};
}

std::string instructions(bool read_only) {
  std::string out =
      "LeanOS Ledger keeps a startup's sales workflow as an immutable event log. A deal thread goes through six "
      "stages: input (deal_open), hypothesis (deal_hypothesis: the canvas assumption it tests), implication "
      "(deal_implication), decision (deal_decide: QUALIFY, DEFER or REJECT), actions (deal_action_plan/start/complete) "
      "and learning (deal_close, deal_learn), whose learnings move the canvas's confidences and the goals that spawned "
      "the deal. The rules refuse a step out of order: the refusal names its rule and what would be right. Every view "
      "tool travels in time: as_of a business date, known_at what the ledger knew then. Resources leanos://canvas, "
      "leanos://today, leanos://deals/{id} and leanos://goals/{id} can be subscribed to.";
  if (read_only) out += " This server is read-only: it offers the views, not the commands.";
  return out;
}

}  // namespace leanos::mcp
