#include "events/rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "events/ids.h"
#include "events/text.h"

#include <google/protobuf/util/message_differencer.h>

#include "events/rules_checks.h"

// The rules of the workspace's own streams (the canvas, goals, settings, analysis) and of
// segments; what a learning does to a confidence and a deal to a goal. The deal rules:
// rules.cpp; campaigns: rules_campaign.cpp.
namespace leanos {

using namespace rules_detail;

void apply(DocumentsState& s, const Envelope& e) {
  if (e.has_document_written()) {
    const auto& d = e.document_written();
    s.paths[d.path()] = {d.content(), e.event_id(), e.position(), from_timestamp(e.occurred_at()), d.removed(), d.content_sha256()};
  }
  s.version = std::max(s.version, e.version());
}

namespace {

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Whether a document's version holds the same text as the one in force, each given inline or
// by the SHA-256 of the files layer's content.
bool same_text(const DocumentsState::InForce& in, const v1::DocumentWritten& d) {
  if (!in.content_sha256.empty() || !d.content_sha256().empty())
    return (in.content_sha256.empty() ? sha256_hex(in.content) : in.content_sha256) ==
           (d.content_sha256().empty() ? sha256_hex(d.content()) : d.content_sha256());
  return in.content == d.content();
}

}  // namespace

Result<Events> decide_document(const DocumentsState& s, const Envelope& c, bool content_held) {
  if (!c.has_document_written()) return Status::invalid("'" + c.type() + "' is not a document's version");
  const auto& d = c.document_written();
  if (auto st = check_document_path(d.path()); !st) return st;
  if (d.removed() && (!d.content().empty() || !d.content_sha256().empty()))
    return Status::invalid("document " + d.path() + " is removed: a removal holds no content");
  if (!d.content_sha256().empty()) {
    if (!d.content().empty())
      return invalid_field("content_sha256", "document " + d.path() + " gives its text twice (content and content_sha256): give one", "content");
    if (!is_sha256_hex(d.content_sha256()))
      return invalid_field("content_sha256", "document " + d.path() + ": content_sha256 '" + d.content_sha256() +
                                                 "' is no SHA-256 (64 lower-case hex digits)");
    if (!content_held)
      return Status::rule(Code::not_found, rule::kDocumentContentUnknown,
                          "document " + d.path() + " names content " + d.content_sha256() + ", which the files layer does not hold",
                          "record the file first (leanos import), or give the document's text as its content",
                          {{"path", d.path()}, {"content_sha256", d.content_sha256()}});
  }
  if (d.content().size() > kMaxDocumentBytes)
    return Status::invalid("document " + d.path() + " is " + std::to_string(d.content().size()) + " bytes; a document holds at most " +
                           std::to_string(kMaxDocumentBytes) + " bytes (split it, or keep it outside the workspace)");
  auto in = s.paths.find(d.path());
  const bool in_force = in != s.paths.end() && !in->second.removed;
  if (d.removed() && !in_force)
    return Status::rule(Code::not_found, rule::kDocumentNotInForce, "document " + d.path() + " is not in force: there is nothing to remove", "",
                        {{"path", d.path()}});
  if (!d.removed() && in_force && same_text(in->second, d)) return Events{};  // the version in force stands
  if (in != s.paths.end() && from_timestamp(c.occurred_at()) < in->second.written_at)
    return Status::rule(Code::failed_precondition, rule::kDocumentOutOfOrder,
                        "document " + d.path() + " is dated " + format_time(from_timestamp(c.occurred_at())) + ", before the version in force (" +
                            format_time(in->second.written_at) + ")",
                        "date it on or after the version in force",
                        {{"path", d.path()}, {"in_force_at", format_time(in->second.written_at)}});
  return Events{c};
}

void apply(ScenariosState& s, const Envelope& e) {
  if (e.has_scenario_saved()) s.names[e.scenario_saved().name()] = {e.scenario_saved(), e.event_id(), e.position()};
  s.version = std::max(s.version, e.version());
}

Result<Events> decide_scenario(const ScenariosState& s, const Envelope& c) {
  if (!c.has_scenario_saved()) return Status::invalid("'" + c.type() + "' is not a saved scenario");
  const auto& d = c.scenario_saved();
  if (auto st = check_slug("scenario name", d.name()); !st) return st;
  if (!d.description().empty())
    if (auto st = check_text("description", d.description()); !st) return st;
  if (d.without().empty() && d.with().empty())
    return Status::invalid("scenario '" + d.name() + "' changes nothing: give what it leaves out (without) or adds (with)");
  for (int i = 0; i < d.without_size(); ++i) {
    const auto& w = d.without(i);
    const std::string at = "without[" + std::to_string(i) + "]";
    switch (w.what_case()) {
      case v1::Without::kDealId:
        if (auto st = check_slug("deal id", w.deal_id()); !st) return Status::invalid(at + ": " + st.message());
        break;
      case v1::Without::kCampaignId:
        if (auto st = check_slug("campaign id", w.campaign_id()); !st) return Status::invalid(at + ": " + st.message());
        break;
      case v1::Without::kEventId:
        if (auto st = check_text("event id", w.event_id()); !st) return Status::invalid(at + ": " + st.message());
        break;
      case v1::Without::kTypeFrom:
        if (auto st = check_event_type_filter(w.type_from().type()); !st) return Status::invalid(at + ": " + st.message());
        if (auto from = parse_time(w.type_from().from()); !from) return Status::invalid(at + ".type_from.from: " + from.status().message());
        break;
      default: return Status::invalid(at + " leaves out nothing: give a deal_id, campaign_id, event_id or type_from");
    }
  }
  for (int i = 0; i < d.with_size(); ++i) {
    const std::string at = "with[" + std::to_string(i) + "]";
    Envelope command;
    if (!command.ParseFromString(d.with(i)) || payload_of(command) == nullptr)
      return Status::invalid(at + " is not a command (an Envelope with a payload, serialized)");
    if (const auto path = personal_text_in(command); !path.empty())
      return invalid_field("with",
                           "scenario '" + d.name() + "': " + at + " (" + command.type() + ") holds personal data in " + path +
                               "; a saved scenario keeps none (it could not be forgotten with its person): leave it out (a "
                               "hypothetical deal needs no contact), or run the scenario without saving it");
  }
  for (const auto& [what, text] : {std::pair{"as_of", &d.as_of()}, std::pair{"known_at", &d.known_at()}})
    if (!text->empty())
      if (auto t = parse_time(*text); !t) return Status::invalid(std::string(what) + ": " + t.status().message());
  if (auto it = s.names.find(d.name()); it != s.names.end() && google::protobuf::util::MessageDifferencer::Equals(it->second.definition, d))
    return Events{};  // saved already, as it reads: the latest version stands
  return Events{c};
}

Result<Events> decide_workspace(const Envelope& c, const Facts& facts) {
  Events out{c};
  switch (c.payload_case()) {
    case Envelope::kGoalDefined: {
      const auto& g = c.goal_defined();
      if (auto st = check_slug("goal id", g.goal_id()); !st) return st;
      if (facts.goals.count(g.goal_id()))
        return Status::rule(Code::already_exists, rule::kGoalExists, "goal '" + g.goal_id() + "' is already defined", "",
                            {{"goal_id", g.goal_id()}});
      if (auto st = check_text("title", g.title()); !st) return st;
      if (g.metric() == v1::GOAL_METRIC_UNSPECIFIED) return invalid_field("metric", "metric is required: mrr, arr or customers");
      if (g.target() <= 0) return invalid_field("target", "target must be above 0");
      if (g.baseline() < 0 || g.baseline() >= g.target())
        return invalid_field("baseline", "baseline " + std::to_string(g.baseline()) + " must be 0 or more and below the target " +
                               std::to_string(g.target()));
      return out;
    }
    case Envelope::kSubgoalDefined: {
      const auto& g = c.subgoal_defined();
      auto it = facts.goals.find(g.goal_id());
      if (it == facts.goals.end())
        return missing(rule::kUnknownGoal, "goal '" + g.goal_id() + "' does not exist",
                       "define it first (GoalDefined " + g.goal_id() + ")", {{"goal_id", g.goal_id()}});
      if (auto st = check_id("subgoal id", g.subgoal_id()); !st) return st;
      if (it->second.count(g.subgoal_id()))
        return Status::rule(Code::already_exists, rule::kGoalExists,
                            "subgoal '" + g.subgoal_id() + "' of goal '" + g.goal_id() + "' already exists", "",
                            {{"goal_id", g.goal_id()}, {"subgoal_id", g.subgoal_id()}});
      if (auto st = check_text("title", g.title()); !st) return st;
      if (g.target() <= 0) return invalid_field("target", "target must be above 0");
      return out;
    }
    case Envelope::kAssumptionRegistered: {
      const auto& a = c.assumption_registered();
      if (auto st = check_id("assumption id", a.assumption_id()); !st) return st;
      if (facts.assumptions.count(a.assumption_id()))
        return Status::rule(Code::already_exists, rule::kAssumptionExists,
                            "assumption '" + a.assumption_id() + "' is already in the canvas; its confidence changes through deal learnings",
                            "record a deal's learning (LearningRecorded), or restate it (AssumptionRevised)",
                            {{"assumption_id", a.assumption_id()}});
      if (auto st = check_text("statement", a.statement()); !st) return st;
      if (auto st = check_percent("confidence", a.confidence()); !st) return st;
      return out;
    }
    case Envelope::kSourceImported: {
      const auto& s = c.source_imported();
      if (s.source() != "git") return Status::invalid("imported source '" + s.source() + "' is not one the ledger reads; known: git");
      if (s.revision().empty() || s.revision().size() > 100) return Status::invalid("the imported revision must be a commit id");
      return out;
    }
    case Envelope::kFileVersion: {
      const auto& f = c.file_version();
      if (auto st = check_file_path(f.path()); !st) return st;
      const bool hex = f.sha256().size() == 64 && f.sha256().find_first_not_of("0123456789abcdef") == std::string::npos;
      if (f.kind() == v1::FILE_DELETED) {
        if (!f.sha256().empty() || f.size() != 0) return Status::invalid("file " + f.path() + ": a deletion has no content (no sha256, size 0)");
      } else if (f.kind() == v1::FILE_KIND_UNSPECIFIED) {
        return Status::invalid("file " + f.path() + ": give its kind: a file, an executable, a symbolic link or a deletion");
      } else if (!hex) {
        return Status::invalid("file " + f.path() + ": sha256 '" + printable(f.sha256()) + "' is not 64 lower-case hexadecimal digits");
      } else if (f.size() > kMaxFileBytes) {
        return Status::invalid("file " + f.path() + " is " + std::to_string(f.size()) + " bytes; the ledger keeps files of at most " +
                               std::to_string(kMaxFileBytes) + " bytes");
      }
      if (!f.commit().empty() && (f.commit().size() != 40 || f.commit().find_first_not_of("0123456789abcdef") != std::string::npos))
        return Status::invalid("file " + f.path() + ": commit '" + printable(f.commit()) + "' is not a full git commit id");
      return out;
    }
    case Envelope::kFileContent: {
      const auto& f = c.file_content();
      if (f.sha256().size() != 64 || f.sha256().find_first_not_of("0123456789abcdef") != std::string::npos)
        return Status::invalid("file content: sha256 '" + printable(f.sha256()) + "' is not 64 lower-case hexadecimal digits");
      if (f.size() > kMaxFileBytes) return Status::invalid("file content of " + std::to_string(f.size()) + " bytes: at most " + std::to_string(kMaxFileBytes));
      const std::uint64_t chunks = f.size() == 0 ? 1 : (f.size() + kFileChunkBytes - 1) / kFileChunkBytes;
      if (f.chunks() != chunks || f.chunk() >= f.chunks())
        return Status::invalid("file content " + f.sha256().substr(0, 12) + ": chunk " + std::to_string(f.chunk()) + " of " +
                               std::to_string(f.chunks()) + " does not fit " + std::to_string(f.size()) + " bytes in chunks of " +
                               std::to_string(kFileChunkBytes));
      if (f.data().size() > kFileChunkBytes + 4096) return Status::invalid("file content: a chunk's data is larger than a compressed chunk can be");
      return out;
    }
    case Envelope::kAssumptionRevised: {
      const auto& r = c.assumption_revised();
      if (auto st = check_id("assumption id", r.assumption_id()); !st) return st;
      if (!facts.assumptions.count(r.assumption_id())) return unknown_assumption(r.assumption_id(), facts);
      if (auto st = check_percent("confidence", r.confidence()); !st) return st;
      if (!r.evidence().empty())
        if (auto st = check_text("evidence", r.evidence()); !st) return st;
      return out;
    }
    case Envelope::kSettingChanged: {
      const auto& s = c.setting_changed();
      if (s.key() != "approval-threshold") return Status::invalid("unknown setting '" + s.key() + "'; known: approval-threshold");
      char* end = nullptr;
      const double v = std::strtod(s.value().c_str(), &end);
      if (end == s.value().c_str() || *end != '\0') return Status::invalid("approval-threshold '" + s.value() + "' is not a number");
      if (auto st = check_unit("approval-threshold", v); !st) return st;
      return out;
    }
    case Envelope::kContentOpportunityActed:
      if (auto st = check_text("topic", c.content_opportunity_acted().topic()); !st) return st;
      return out;
    case Envelope::kAnalysisRecorded: {
      const auto& a = c.analysis_recorded();
      if (auto st = check_id("analysis id", a.analysis_id()); !st) return st;
      if (a.mode() == v1::ANALYSIS_MODE_UNSPECIFIED) return invalid_field("mode", "mode is required: abductive, inductive or counterfactual");
      if (auto st = check_text("question", a.question()); !st) return st;
      if (auto st = check_text("finding", a.finding()); !st) return st;
      return out;
    }
    default:
      return Status::invalid("'" + c.type() + "' is not a workspace command");
  }
}

Result<Events> decide_segment(const SegmentState& s, const Envelope& c) {
  Events out{c};
  Envelope& first = out.front();
  switch (c.payload_case()) {
    case Envelope::kIcpDefined: {
      auto* i = first.mutable_icp_defined();
      if (auto st = check_slug("segment", i->segment()); !st) return st;
      if (auto st = check_unit("qualification_score", i->qualification_score()); !st) return st;
      if (i->filters().industry().empty()) return Status::invalid("the ICP needs filters.industry (a list of industries)");
      if (i->sample_companies_size() < 5 || i->sample_companies_size() > 10)
        return Status::invalid("the ICP lists " + std::to_string(i->sample_companies_size()) +
                               " sample companies; LeanOS asks for 5 to 10");
      i->set_version(s.icp_versions + 1);
      return out;
    }
    case Envelope::kNarrativeWritten: {
      auto* n = first.mutable_narrative_written();
      if (auto st = check_slug("segment", n->segment()); !st) return st;
      if (auto st = check_text("problem", n->problem()); !st) return st;
      if (auto st = check_text("solution", n->solution()); !st) return st;
      if (auto st = check_text("specifics", n->specifics()); !st) return st;
      n->set_version(s.narrative_versions + 1);
      return out;
    }
    case Envelope::kMaterialPublished: {
      auto* m = first.mutable_material_published();
      if (auto st = check_slug("segment", m->segment()); !st) return st;
      if (m->kind() == v1::MATERIAL_KIND_UNSPECIFIED) return Status::invalid("material kind is required");
      if (auto st = check_text("content", m->content()); !st) return st;
      auto it = s.material_versions.find(m->kind());
      m->set_version((it == s.material_versions.end() ? 0 : it->second) + 1);
      return out;
    }
    case Envelope::kMaterialFeedback:
      if (auto st = check_slug("segment", c.material_feedback().segment()); !st) return st;
      return out;
    default:
      return Status::invalid("'" + c.type() + "' is not a segment command");
  }
}

std::optional<ConfidenceChange> confidence_after(int previous, const v1::LearningRecorded& l) {
  switch (l.result()) {
    case v1::VALIDATED: return ConfidenceChange{l.has_confidence() ? l.confidence() : std::min(100, previous + 10), v1::ASSUMPTION_VALIDATED};
    case v1::PARTIAL: return ConfidenceChange{l.has_confidence() ? l.confidence() : std::max(0, previous - 10), v1::CHALLENGED};
    case v1::INVALIDATED: return ConfidenceChange{0, v1::ASSUMPTION_INVALIDATED};
    default: return std::nullopt;
  }
}

std::int64_t goal_contribution(v1::GoalMetric metric, const v1::DealClosed& c) {
  switch (metric) {
    case v1::MRR: return c.mrr();
    case v1::ARR: return c.arr();
    case v1::CUSTOMERS: return 1;
    default: return 0;
  }
}

bool is_derived_record(const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kAssumptionConfidenceChanged:
    case Envelope::kGoalProgressed:
    case Envelope::kSubgoalProgressed:
    case Envelope::kGoalTargetMet:
    case Envelope::kCanvasMetricRecorded:
    case Envelope::kDerivationRestated: return true;
    default: return false;
  }
}

}  // namespace leanos
