#include "events/domain.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <functional>
#include <map>

#include "events/ids.h"
#include "events/text.h"

namespace leanos {

namespace gp = google::protobuf;


std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status check_id(std::string_view what, std::string_view id) {
  if (id.empty()) return Status::invalid(std::string(what) + " is empty; give one such as acme-corp");
  if (id.size() > 120) return Status::invalid(std::string(what) + " is longer than 120 characters");
  // An id names a folder of the workspace (threads/sales/ID): '.', '..' and hidden names are not ids.
  if (const char c = id.front(); !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
    return Status::invalid(std::string(what) + " '" + std::string(id) + "' starts with '" + std::string(1, c) +
                           "'; an id starts with a letter or a digit (e.g. " + (slugify(id).empty() ? "acme-corp" : slugify(id)) + ")");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok)
      return Status::invalid(std::string(what) + " '" + std::string(id) + "' has the character '" + std::string(1, c) +
                             "'; use letters, digits, '-', '_' or '.' (e.g. " + slugify(id) + ")");
  }
  return Status::success();
}

Status check_slug(std::string_view what, std::string_view id) {
  if (auto s = check_id(what, id); !s) return s;
  for (char c : id)
    if (c >= 'A' && c <= 'Z')
      return Status::invalid(std::string(what) + " '" + std::string(id) + "' has upper case; use lowercase, e.g. " + slugify(id));
  return Status::success();
}

namespace {

// What every workspace path must be: relative, '/'-separated, not a folder, no empty, '.' or
// '..' part; then each part passes `part_ok` (the reason it does not, or empty). `bad`
// words the refusal.
Status check_path_parts(const std::string& p, const std::function<Status(const std::string&)>& bad,
                        const std::function<std::string(const std::string&)>& part_ok) {
  if (p.front() == '/') return bad("is absolute");
  if (p.back() == '/') return bad("names a folder");
  for (std::size_t start = 0; start <= p.size();) {
    std::size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string part = p.substr(start, end - start);
    if (part.empty()) return bad("has an empty part ('//')");
    if (part == "." || part == "..") return bad("has a '" + part + "' part");
    if (const std::string why = part_ok(part); !why.empty()) return bad(why);
    start = end + 1;
  }
  return Status::success();
}

bool has_control(const std::string& part, bool or_backslash) {
  return std::any_of(part.begin(), part.end(), [&](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f || (or_backslash && c == '\\');
  });
}

}  // namespace

Status check_document_path(std::string_view path) {
  const std::string p(path);
  auto bad = [&](const std::string& why) {
    return Status::invalid("document path '" + p + "' " + why + "; give a workspace-relative path such as strategy/canvas/07-uvp.md");
  };
  if (p.empty()) return Status::invalid("document path is empty; give a workspace-relative path such as strategy/canvas/07-uvp.md");
  if (p.size() > 400) return bad("is longer than 400 characters");
  return check_path_parts(p, bad, [](const std::string& part) -> std::string {
    if (part.front() == '.') return "has a hidden part ('" + part + "')";
    if (has_control(part, true)) return "has a control character or a backslash";
    return "";
  });
}

Status check_file_path(std::string_view path) {
  const std::string p(path);
  auto bad = [&](const std::string& why) { return Status::invalid("path '" + printable(p) + "' " + why); };
  if (p.empty()) return Status::invalid("a file path is empty");
  if (!valid_utf8(p)) return bad("is not UTF-8 (the ledger keeps paths as text; rename the file)");
  if (p.size() > 4096) return bad("is longer than 4096 bytes");
  return check_path_parts(p, bad, [](const std::string& part) -> std::string {
    if (lower(part) == ".git") return "is inside .git: git's own files are not the workspace's";
    if (has_control(part, false)) return "has a control character";
    return "";
  });
}

const std::vector<std::string>& domain_event_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    const auto* payload = Envelope::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < payload->field_count(); ++i)
      if (payload->field(i)->number() != Envelope::kGeneric) out.push_back(payload->field(i)->message_type()->name());
    std::sort(out.begin(), out.end());
    return out;
  }();
  return types;
}

Status check_event_type_filter(std::string_view type) {
  const auto& types = domain_event_types();
  if (type.empty()) return Status::invalid("an empty event type matches nothing; give a type such as ActionStarted");
  if (std::binary_search(types.begin(), types.end(), type)) return Status::success();
  std::string closest;
  std::size_t best = SIZE_MAX;
  for (const auto& t : types)
    if (const auto d = edit_distance(lower(type), lower(t)); d < best) best = d, closest = t;
  if (best <= 3 || lower(type) == lower(closest))
    return Status::invalid("there is no event type '" + std::string(type) + "'; did you mean '" + closest +
                           "'? (domain event types are CamelCase names such as LeadCaptured, ActionStarted, DealClosed)");
  return Status::success();  // a generic event type of the caller's own
}

Status check_raw_append(std::string_view stream, const Envelope& e) {
  if (is_domain_stream(stream))
    return Status::precondition("stream '" + std::string(stream) +
                                "' belongs to the workflow's rules: record its events with the commands (`leanos deal …`, "
                                "`leanos canvas …`, `leanos goal …`, or the Command RPC); raw appends go to streams of your "
                                "own, e.g. notes-1");
  if (e.payload_case() != Envelope::kGeneric && e.payload_case() != Envelope::PAYLOAD_NOT_SET)
    return Status::precondition("event " + (e.event_id().empty() ? std::string("(no id given)") : e.event_id()) + " carries a " +
                                payload_of(e)->GetDescriptor()->name() +
                                " payload: domain events are recorded through the commands (the Command RPC, `leanos deal "
                                "…`), which apply the rules; a raw append carries a generic payload");
  return Status::success();
}

bool occurs_before(const Envelope& a, const Envelope& b) {
  const Micros x = from_timestamp(a.occurred_at()), y = from_timestamp(b.occurred_at());
  return x != y ? x < y : a.position() < b.position();
}

std::string deal_id_of(const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kLeadCaptured: return e.lead_captured().deal_id();
    case Envelope::kHypothesisStated: return e.hypothesis_stated().deal_id();
    case Envelope::kImplicationAssessed: return e.implication_assessed().deal_id();
    case Envelope::kDecisionMade: return e.decision_made().deal_id();
    case Envelope::kDecisionApproved: return e.decision_approved().deal_id();
    case Envelope::kActionPlanned: return e.action_planned().deal_id();
    case Envelope::kActionStarted: return e.action_started().deal_id();
    case Envelope::kActionCompleted: return e.action_completed().deal_id();
    case Envelope::kActionBlocked: return e.action_blocked().deal_id();
    case Envelope::kActionUnblocked: return e.action_unblocked().deal_id();
    case Envelope::kQualificationScored: return e.qualification_scored().deal_id();
    case Envelope::kDealClosed: return e.deal_closed().deal_id();
    case Envelope::kLearningRecorded: return e.learning_recorded().deal_id();
    default: return {};
  }
}

std::string campaign_id_of(const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kCampaignOpened: return e.campaign_opened().campaign_id();
    case Envelope::kCampaignHypothesisStated: return e.campaign_hypothesis_stated().campaign_id();
    case Envelope::kCampaignImplicationAssessed: return e.campaign_implication_assessed().campaign_id();
    case Envelope::kCampaignDecisionMade: return e.campaign_decision_made().campaign_id();
    case Envelope::kProspectAdded: return e.prospect_added().campaign_id();
    case Envelope::kContactAdded: return e.contact_added().campaign_id();
    case Envelope::kOutreachSequenceDefined: return e.outreach_sequence_defined().campaign_id();
    case Envelope::kOutreachSent: return e.outreach_sent().campaign_id();
    case Envelope::kResponseReceived: return e.response_received().campaign_id();
    case Envelope::kProspectConverted: return e.prospect_converted().campaign_id();
    case Envelope::kCampaignResultsRecorded: return e.campaign_results_recorded().campaign_id();
    default: return {};
  }
}

Envelope make_event(const gp::Message& payload, Micros occurred_at) {
  Envelope e;
  const auto* oneof = Envelope::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    if (field->message_type() == payload.GetDescriptor()) {
      e.GetReflection()->MutableMessage(&e, field)->CopyFrom(payload);
      break;
    }
  }
  e.set_type(payload.GetDescriptor()->name());
  to_timestamp(occurred_at, e.mutable_occurred_at());
  return e;
}

const gp::Message* payload_of(const Envelope& e) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("payload");
  const auto* field = e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  if (!field) return nullptr;
  return &e.GetReflection()->GetMessage(e, field);
}

std::string personal_text_in(const gp::Message& m) {
  const auto* r = m.GetReflection();
  std::vector<const gp::FieldDescriptor*> set;
  r->ListFields(m, &set);
  for (const auto* f : set) {
    if (f->options().GetExtension(v1::personal) && f->cpp_type() == gp::FieldDescriptor::CPPTYPE_STRING) {
      const bool text = f->is_repeated() ? r->FieldSize(m, f) > 0 : !r->GetString(m, f).empty();
      if (text) return f->name();
    } else if (f->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map()) {
      const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
      for (int i = 0; i < n; ++i) {
        const auto& sub = f->is_repeated() ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f);
        if (auto inner = personal_text_in(sub); !inner.empty()) return f->name() + "." + inner;
      }
    }
  }
  return {};
}

namespace {

template <class E>
Result<E> pick(std::string_view what, std::string_view text, std::initializer_list<std::pair<const char*, E>> table,
               const char* accepted) {
  const std::string t = lower(text);
  for (const auto& [word, value] : table)
    if (t == word) return value;
  return Status::invalid(std::string(what) + " '" + std::string(text) + "' is not one of " + accepted);
}

}  // namespace

Result<v1::GoalMetric> parse_goal_metric(std::string_view t) {
  return pick<v1::GoalMetric>("metric", t, {{"mrr", v1::MRR}, {"arr", v1::ARR}, {"customers", v1::CUSTOMERS}},
                              "mrr, arr, customers");
}
Result<v1::LeadSource> parse_lead_source(std::string_view t) {
  return pick<v1::LeadSource>("source", t, {{"inbound", v1::INBOUND}, {"outbound", v1::OUTBOUND}, {"campaign", v1::CAMPAIGN}},
                              "inbound, outbound, campaign");
}
Result<v1::StrategicValue> parse_strategic(std::string_view t) {
  return pick<v1::StrategicValue>("strategic value", t, {{"high", v1::HIGH}, {"medium", v1::MEDIUM}, {"low", v1::LOW}},
                                  "high, medium, low");
}
Result<v1::Verdict> parse_deal_verdict(std::string_view t) {
  return pick<v1::Verdict>("decision", t,
                           {{"qualify", v1::QUALIFY}, {"pursue", v1::QUALIFY}, {"proceed", v1::QUALIFY},
                            {"defer", v1::DEFER}, {"reject", v1::REJECT}, {"pass", v1::REJECT}, {"decline", v1::REJECT}},
                           "qualify, defer, reject");
}
Result<v1::Verdict> parse_campaign_verdict(std::string_view t) {
  return pick<v1::Verdict>("decision", t, {{"launch", v1::LAUNCH}, {"defer", v1::DEFER}, {"cancel", v1::CANCEL}},
                           "launch, defer, cancel");
}
Result<v1::Outcome> parse_outcome(std::string_view t) {
  return pick<v1::Outcome>("outcome", t, {{"won", v1::WON}, {"closed", v1::WON}, {"lost", v1::LOST}, {"stalled", v1::STALLED}},
                           "won, lost, stalled");
}
Result<v1::LearningResult> parse_learning_result(std::string_view t) {
  return pick<v1::LearningResult>("result", t,
                                  {{"validated", v1::VALIDATED}, {"invalidated", v1::INVALIDATED}, {"partial", v1::PARTIAL},
                                   {"challenged", v1::PARTIAL}, {"inconclusive", v1::PARTIAL}},
                                  "validated, invalidated, partial");
}
Result<v1::AssumptionStatus> parse_assumption_status(std::string_view t) {
  return pick<v1::AssumptionStatus>("assumption status", t,
                                    {{"untested", v1::UNTESTED}, {"testing", v1::TESTING}, {"validated", v1::ASSUMPTION_VALIDATED},
                                     {"challenged", v1::CHALLENGED}, {"invalidated", v1::ASSUMPTION_INVALIDATED}},
                                    "untested, testing, validated, challenged, invalidated");
}
Result<v1::MaterialKind> parse_material_kind(std::string_view t) {
  return pick<v1::MaterialKind>("material", t,
                                {{"pitch-deck", v1::PITCH_DECK}, {"one-pager", v1::ONE_PAGER}, {"call-scripts", v1::CALL_SCRIPTS},
                                 {"email-templates", v1::EMAIL_TEMPLATES}, {"pilot-agreement", v1::PILOT_AGREEMENT},
                                 {"contract-template", v1::CONTRACT_TEMPLATE}},
                                "pitch-deck, one-pager, call-scripts, email-templates, pilot-agreement, contract-template");
}
Result<v1::AnalysisMode> parse_analysis_mode(std::string_view t) {
  return pick<v1::AnalysisMode>("mode", t,
                                {{"abductive", v1::ABDUCTIVE}, {"inductive", v1::INDUCTIVE}, {"counterfactual", v1::COUNTERFACTUAL}},
                                "abductive, inductive, counterfactual");
}
Result<std::string> parse_action_type(std::string_view t) {
  const std::string s = lower(t);
  if (s == "sales:qualification") return std::string("sales:qualify");
  for (const char* a : kSalesActions)
    if (s == a) return std::string(a);
  return Status::invalid("action '" + std::string(t) +
                         "' is not one of sales:lead-intake, sales:qualify, sales:demo, sales:pilot, sales:close");
}

const std::vector<std::string>& action_results(const std::string& action) {
  static const std::map<std::string, std::vector<std::string>> kResults = {
      {"sales:lead-intake", {"READY_FOR_QUALIFICATION"}},
      {"sales:qualify", {"QUALIFIED", "MAYBE", "DISQUALIFIED"}},
      {"sales:demo", {"INTERESTED", "NEEDS_REVISION", "NOT_INTERESTED"}},
      {"sales:pilot", {"SUCCESS", "FAILED"}},
      {"sales:close", {"WON", "LOST"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kResults.find(action);
  return it == kResults.end() ? kNone : it->second;
}

bool action_needs_human(const std::string& action) { return action != "sales:lead-intake"; }

std::string verdict_name(v1::Verdict v) { return v1::Verdict_Name(v); }

std::string outcome_name(v1::Outcome o) {
  switch (o) {
    case v1::WON: return "won";
    case v1::LOST: return "lost";
    case v1::STALLED: return "stalled";
    default: return "none";
  }
}

const std::string& word(const google::protobuf::EnumValueDescriptor* value) {
  static const std::string unknown = "unknown";
  if (!value) return unknown;
  const auto& w = value->options().GetExtension(v1::word);
  return w.empty() ? value->name() : w;
}

v1::ResponseKind response_kind(const v1::ResponseReceived& r) {
  if (r.response() != v1::RESPONSE_KIND_UNSPECIFIED) return r.response();
  auto k = from_word(v1::ResponseKind_descriptor(), lower(r.kind()));
  return k ? static_cast<v1::ResponseKind>(*k) : v1::RESPONSE_KIND_UNSPECIFIED;
}

std::optional<int> from_word(const google::protobuf::EnumDescriptor* type, std::string_view text) {
  for (int i = 1; i < type->value_count(); ++i)
    if (word(type->value(i)) == text) return type->value(i)->number();
  return std::nullopt;
}

std::string words_of(const google::protobuf::EnumDescriptor* type) {
  std::string out;
  for (int i = 1; i < type->value_count(); ++i) out += (i > 1 ? ", " : "") + word(type->value(i));
  return out;
}

}  // namespace leanos
