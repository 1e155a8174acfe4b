#include "actors/commands.h"
#include "actors/files.h"
#include "actors/queries.h"

#include <map>

#include <google/protobuf/util/message_differencer.h>

#include <limits>

#include "events/ids.h"

namespace leanos {

namespace {

constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

template <class State>
Result<State> fold_stream(const store::EventStore& store, const std::string& stream) {
  auto events = store.read_stream(stream, 1, store::Direction::forward, kAll);
  if (!events) return events.status();
  State s;
  for (const auto& e : *events) apply(s, e);
  return s;
}

// Whether `stored` is what `command` recorded the first time: the same stream, type and
// every payload field the command set (the rules may have filled in fields it left empty;
// occurred_at defaults to the clock, so a retry without --at differs there).
bool same_command(const Envelope& stored, const Envelope& command, const std::string& stream) {
  if (stored.stream() != stream || stored.payload_case() != command.payload_case()) return false;
  const auto* a = payload_of(command);
  const auto* b = payload_of(stored);
  if (a == nullptr || b == nullptr) return a == b;
  google::protobuf::util::MessageDifferencer diff;
  diff.set_scope(google::protobuf::util::MessageDifferencer::PARTIAL);
  return diff.Compare(*a, *b);
}

}  // namespace

std::string stream_of_command(const Envelope& c) {
  if (auto deal = deal_id_of(c); !deal.empty()) return deal_stream(deal);
  if (auto campaign = campaign_id_of(c); !campaign.empty()) return campaign_stream(campaign);
  switch (c.payload_case()) {
    case Envelope::kGoalDefined: return goal_stream(c.goal_defined().goal_id());
    case Envelope::kSubgoalDefined: return goal_stream(c.subgoal_defined().goal_id());
    case Envelope::kAssumptionRegistered:
    case Envelope::kAssumptionRevised: return kCanvasStream;
    case Envelope::kIcpDefined: return segment_stream(c.icp_defined().segment());
    case Envelope::kNarrativeWritten: return segment_stream(c.narrative_written().segment());
    case Envelope::kMaterialPublished: return segment_stream(c.material_published().segment());
    case Envelope::kMaterialFeedback: return segment_stream(c.material_feedback().segment());
    case Envelope::kSettingChanged: return kWorkspaceStream;
    case Envelope::kDocumentWritten: return kDocumentsStream;
    case Envelope::kFileVersion: return kFilesStream;
    case Envelope::kFileContent: return kFileContentsStream;
    case Envelope::kSourceImported: return kImportsStream;
    case Envelope::kContentOpportunityActed: return kMarketingStream;
    case Envelope::kAnalysisRecorded: return kAnalysisStream;
    case Envelope::kScenarioSaved: return kScenariosStream;
    default: return {};
  }
}

Result<DealState> CommandHandler::deal(const std::string& id) const {
  return fold_stream<DealState>(store_, deal_stream(id));
}

Result<CampaignState> CommandHandler::campaign(const std::string& id) const {
  return fold_stream<CampaignState>(store_, campaign_stream(id));
}

Result<Facts> CommandHandler::facts(const Envelope& c) const { return facts_->facts(store_, c); }

Result<Facts> FactsCache::facts(const store::EventStore& store, const Envelope& c) {
  // The goal and campaign a command names, if any.
  std::string goal, campaign;
  if (c.has_lead_captured()) {
    goal = c.lead_captured().goal_id();
    campaign = c.lead_captured().campaign_id();
  } else if (c.has_goal_defined()) {
    goal = c.goal_defined().goal_id();
  } else if (c.has_subgoal_defined()) {
    goal = c.subgoal_defined().goal_id();
  } else if (c.has_campaign_opened()) {
    goal = c.campaign_opened().goal_id();
  }
  if (!goal.empty() && !check_stream_name(goal_stream(goal)).is_ok()) goal.clear();
  if (!campaign.empty() && !check_stream_name(campaign_stream(campaign)).is_ok()) campaign.clear();

  // Where the last look ended, under the lock; the store is read outside it, so that one
  // slow read holds up no other command. Another command may have looked further meanwhile:
  // what is applied below skips the versions already folded.
  std::uint64_t canvas_from, workspace_from, goal_from = 1;
  {
    std::lock_guard lock(mu_);
    canvas_from = canvas_version_ + 1;
    workspace_from = workspace_version_ + 1;
    if (auto it = goals_.find(goal); !goal.empty() && it != goals_.end()) goal_from = it->second.version + 1;
  }
  auto canvas = store.read_stream(kCanvasStream, canvas_from, store::Direction::forward, kAll);
  if (!canvas) return canvas.status();
  auto workspace = store.read_stream(kWorkspaceStream, workspace_from, store::Direction::forward, kAll);
  if (!workspace) return workspace.status();
  std::vector<Envelope> goal_events;
  if (!goal.empty()) {
    auto events = store.read_stream(goal_stream(goal), goal_from, store::Direction::forward, kAll);
    if (!events) return events.status();
    goal_events = std::move(*events);
  }
  bool campaign_exists = false;
  if (!campaign.empty()) {
    auto v = store.stream_version(campaign_stream(campaign));
    if (!v) return v.status();
    campaign_exists = *v > 0;
  }

  std::lock_guard lock(mu_);
  for (const auto& e : *canvas) {
    if (e.version() <= canvas_version_) continue;
    if (e.has_assumption_registered()) assumptions_.insert(e.assumption_registered().assumption_id());
    canvas_version_ = e.version();
  }
  for (const auto& e : *workspace) {
    if (e.version() <= workspace_version_) continue;
    if (e.has_setting_changed() && e.setting_changed().key() == "approval-threshold")
      approval_threshold_ = std::strtod(e.setting_changed().value().c_str(), nullptr);
    workspace_version_ = e.version();
  }
  Facts f;
  f.assumptions = assumptions_;
  f.approval_threshold = approval_threshold_;
  if (!goal.empty()) {
    auto& known = goals_[goal];
    for (const auto& e : goal_events) {
      if (e.version() <= known.version) continue;
      if (e.has_goal_defined()) known.defined = true;
      if (e.has_subgoal_defined()) known.subgoals.insert(e.subgoal_defined().subgoal_id());
      known.version = e.version();
    }
    if (known.defined || !known.subgoals.empty()) f.goals[goal] = known.subgoals;
    else goals_.erase(goal);  // not a goal (yet): remember nothing
  }
  if (campaign_exists) f.campaigns.insert(campaign);
  return f;
}

Result<DocumentsState> FactsCache::documents(const store::EventStore& store) {
  std::uint64_t from;
  {
    std::lock_guard lock(mu_);
    from = documents_.version + 1;
  }
  auto events = store.read_stream(kDocumentsStream, from, store::Direction::forward, kAll);
  if (!events) return events.status();
  std::lock_guard lock(mu_);
  for (const auto& e : *events)
    if (e.version() > documents_.version) apply(documents_, e);
  return documents_;
}

Result<Handled> CommandHandler::append(const std::string& stream, store::ExpectedVersion expected, Result<Events> decided) {
  if (!decided) return decided.status();
  for (auto& e : *decided)
    if (e.correlation_id().empty()) e.set_correlation_id(stream);
  auto r = store_.append(stream, expected, *decided);
  if (!r) return r.status();
  Handled h{stream, std::move(*decided), r->idempotent_retry};
  for (std::size_t i = 0; i < h.events.size(); ++i) {  // as stored: what the store filled in
    h.events[i].set_position(r->positions[i]);
    h.events[i].set_version(r->versions[i]);
    to_timestamp(r->recorded_at[i], h.events[i].mutable_recorded_at());
    h.events[i].set_stream(stream);
  }
  return h;
}

// A command the rules found already recorded (a learning stated again): what holds it.
Result<Handled> CommandHandler::already_recorded(const DealState& state, const std::string& stream, const Envelope& c) const {
  std::string assumption = c.has_learning_recorded() ? c.learning_recorded().assumption_id() : "";
  if (assumption.empty() && state.hypothesis) assumption = state.hypothesis->assumption_id();
  const int i = state.learning_about(assumption);
  if (i < 0) return Status::corruption("the rules found " + c.type() + " already recorded in " + stream + ", but it is not there");
  auto known = store_.find_event_id(state.learning_event_ids[i]);
  if (!known) return known.status();
  if (!known->has_value()) return Status::corruption("event " + state.learning_event_ids[i] + " of " + stream + " is not in the store");
  auto e = store_.read_event(**known);
  if (!e) return e.status();
  return Handled{stream, {std::move(*e)}, true};
}

// The deal's lead first: it is the contended part (a deal id taken meanwhile rejects the
// whole command, and nothing is recorded). Then the response and the conversion, together,
// on the campaign. A crash between the two leaves the lead, caused by the response; the retry
// (same id) finds that lead by its derived id and records the rest.
Result<CommandHandler::DealOpening> CommandHandler::open_deal(CampaignState& campaign, Events& decided, const Facts& facts) {
  const auto opening = response_opens_deal(campaign, decided.front());
  DealOpening out{stream_of_command(opening.lead), 0, {}, std::nullopt};
  auto known = store_.find_event_id(opening.lead.event_id());
  if (!known) return known.status();
  if (known->has_value()) {
    out.recorded = **known;
  } else {
    auto state = fold_stream<DealState>(store_, out.stream);
    if (!state) return state.status();
    auto lead_facts = this->facts(opening.lead);
    if (!lead_facts) return lead_facts.status();
    lead_facts->campaigns.insert(campaign.campaign_id);  // opened by the same batch, maybe
    Envelope command = opening.lead;
    command.set_correlation_id(out.stream);
    auto lead = decide_deal(*state, command, *lead_facts);
    if (!lead) return lead.status();
    out.version = state->version;
    out.lead = std::move(*lead);
  }
  for (const auto& e : decided) apply(campaign, e);
  Envelope conversion = opening.converted;
  conversion.set_correlation_id(decided.front().correlation_id());
  auto converted = decide_campaign(campaign, conversion, facts);
  if (!converted) return converted.status();
  for (auto& e : *converted) {
    apply(campaign, e);
    decided.push_back(std::move(e));
  }
  return out;
}

Result<Handled> CommandHandler::response_opening_deal(const CampaignState& campaign, const Envelope& c, const Facts& facts) {
  auto decided = decide_campaign(campaign, c, facts);
  if (!decided) return decided.status();
  CampaignState after = campaign;
  auto opening = open_deal(after, *decided, facts);
  if (!opening) return opening.status();
  Events lead;
  if (opening->recorded) {
    auto e = store_.read_event(*opening->recorded);
    if (!e) return e.status();
    lead.push_back(std::move(*e));
  } else {
    auto h = append(opening->stream, store::ExpectedVersion::exact(opening->version), std::move(opening->lead));
    if (!h) return h.status();
    lead = std::move(h->events);
  }
  auto h = append(c.correlation_id(), store::ExpectedVersion::exact(campaign.version), std::move(*decided));
  if (!h) return h.status();
  h->events.insert(h->events.begin(), lead.begin(), lead.end());
  return h;
}

Result<Handled> CommandHandler::handle(Envelope c) {
  const std::string stream = stream_of_command(c);
  if (stream.empty()) return Status::invalid("'" + c.type() + "' is not a command");
  if (auto s = check_stream_name(stream); !s) return s;
  if (auto s = check_correction_kind(c); !s) return s;
  if (c.event_id().empty()) return Status::invalid("a command needs an event id");
  // A retried command (same id) returns what it did the first time, whatever happened since.
  if (auto known = store_.find_event_id(c.event_id()); !known) {
    return known.status();
  } else if (known->has_value()) {
    auto e = store_.read_event(**known);
    if (!e) return e.status();
    if (!same_command(*e, c, stream))
      return Status::exists("id '" + c.event_id() + "' was already used at position " + std::to_string(**known) + " for " +
                            e->type() + " in " + e->stream() +
                            " with other content; a retry must repeat the command exactly, a new command needs a new id");
    return Handled{e->stream(), {*e}, true};
  }
  auto facts = this->facts(c);
  if (!facts) return facts.status();
  c.set_correlation_id(stream);

  switch (c.payload_case()) {
    case Envelope::kLeadCaptured:
    case Envelope::kHypothesisStated:
    case Envelope::kImplicationAssessed:
    case Envelope::kDecisionMade:
    case Envelope::kDecisionApproved:
    case Envelope::kActionPlanned:
    case Envelope::kActionStarted:
    case Envelope::kActionCompleted:
    case Envelope::kActionBlocked:
    case Envelope::kActionUnblocked:
    case Envelope::kQualificationScored:
    case Envelope::kDealClosed:
    case Envelope::kLearningRecorded: {
      auto state = fold_stream<DealState>(store_, stream);
      if (!state) return state.status();
      auto decided = decide_deal(*state, c, *facts);
      if (decided && decided->empty()) return already_recorded(*state, stream, c);
      if (!decided && decided.status().rule_id() == rule::kUnknownDeal) {  // a typo, most likely: name the close ones
        const auto& st = decided.status();
        const std::string id = deal_id_of(c);
        return Status::rule(st.code(), st.rule_id(), st.reason() + closest_deals(store_, id), st.hint(), st.params());
      }
      return append(stream, store::ExpectedVersion::exact(state->version), std::move(decided));
    }
    case Envelope::kCampaignOpened:
    case Envelope::kCampaignHypothesisStated:
    case Envelope::kCampaignImplicationAssessed:
    case Envelope::kCampaignDecisionMade:
    case Envelope::kProspectAdded:
    case Envelope::kContactAdded:
    case Envelope::kOutreachSequenceDefined:
    case Envelope::kOutreachSent:
    case Envelope::kResponseReceived:
    case Envelope::kProspectConverted:
    case Envelope::kCampaignResultsRecorded: {
      auto state = fold_stream<CampaignState>(store_, stream);
      if (!state) return state.status();
      if (c.has_response_received() && !c.response_received().opens_deal_id().empty())
        return response_opening_deal(*state, c, *facts);
      return append(stream, store::ExpectedVersion::exact(state->version), decide_campaign(*state, c, *facts));
    }
    case Envelope::kIcpDefined:
    case Envelope::kNarrativeWritten:
    case Envelope::kMaterialPublished:
    case Envelope::kMaterialFeedback: {
      auto events = store_.read_stream(stream, 1, store::Direction::forward, kAll);
      if (!events) return events.status();
      SegmentState state;
      for (const auto& e : *events) apply(state, e);
      return append(stream, store::ExpectedVersion::exact(events->size()), decide_segment(state, c));
    }
    case Envelope::kDocumentWritten: {
      auto documents = facts_->documents(store_);
      if (!documents) return documents.status();
      auto decided = decide_document_in(store_, *documents, c);
      if (decided && decided->empty()) {  // nothing new: the version in force answers
        auto e = store_.read_event(documents->paths.at(c.document_written().path()).position);
        if (!e) return e.status();
        return Handled{stream, {std::move(*e)}, true};
      }
      return append(stream, store::ExpectedVersion::exact(documents->version), std::move(decided));
    }
    case Envelope::kScenarioSaved: {
      auto state = fold_stream<ScenariosState>(store_, stream);
      if (!state) return state.status();
      auto decided = decide_scenario(*state, c);
      if (decided && decided->empty()) {  // saved already as it reads: that version answers
        auto e = store_.read_event(state->names.at(c.scenario_saved().name()).position);
        if (!e) return e.status();
        return Handled{stream, {std::move(*e)}, true};
      }
      return append(stream, store::ExpectedVersion::exact(state->version), std::move(decided));
    }
    default: {
      // Workspace commands: the stream's version when the facts were read guards against a
      // concurrent duplicate (two processes registering A4 at once).
      auto v = store_.stream_version(stream);
      if (!v) return v.status();
      return append(stream, store::ExpectedVersion::exact(*v), decide_workspace(c, *facts));
    }
  }
}

Result<Events> decide_document_in(const store::EventStore& store, const DocumentsState& documents, const Envelope& c) {
  bool held = false;  // the files layer's content its text names, if it names one
  if (const auto& sha = c.document_written().content_sha256(); !sha.empty()) {
    auto h = content_held(store, sha);
    if (!h) return h.status();
    held = *h;
  }
  return decide_document(documents, c, held);
}

Result<Handled> CommandHandler::handle_batch(std::vector<Envelope> commands) {
  if (commands.empty()) return Status::invalid("an empty batch records nothing; give at least one command");
  if (commands.size() == 1) return handle(std::move(commands.front()));
  const std::string stream = stream_of_command(commands.front());
  const bool campaign = stream.rfind("campaign-", 0) == 0, deal = stream.rfind("deal-", 0) == 0;
  if (!campaign && !deal && stream != kCanvasStream && stream.rfind("goal-", 0) != 0 && stream != kFilesStream &&
      stream != kFileContentsStream)
    return Status::invalid("a batch holds the commands of one campaign, deal or goal, the canvas, or the workspace's files; '" +
                           commands.front().type() + "' is none of those");
  if (auto s = check_stream_name(stream); !s) return s;
  // The same command twice (an import reading one fact twice) is one; one id for two
  // different commands is refused, naming the second.
  std::map<std::string, std::size_t> ids;
  std::vector<bool> repeated(commands.size(), false);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto& c = commands[i];
    if (stream_of_command(c) != stream)
      return Status::invalid("a batch holds the commands of one stream: '" + stream_of_command(c) + "' is not '" + stream + "'");
    if (c.event_id().empty()) return Status::invalid("a command needs an event id");
    if (auto s = check_correction_kind(c); !s) {
      s.add_param("batch_index", std::to_string(i));
      return s;
    }
    c.set_correlation_id(stream);
    if (auto [it, fresh] = ids.emplace(c.event_id(), i); !fresh) {
      Envelope first = commands[it->second];
      first.set_stream(stream);
      if (!same_command(first, c, stream)) {
        Status st = Status::exists("id '" + c.event_id() + "' is given to two different commands of this batch (" +
                                   std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + "); each command needs its own id");
        st.add_param("batch_index", std::to_string(i));
        return st;
      }
      repeated[i] = true;
    }
  }
  auto facts = this->facts(commands.front());
  if (!facts) return facts.status();
  // Each command of the batch is decided against the stream as the ones before it leave it.
  CampaignState campaign_state;
  DealState deal_state;
  std::uint64_t version = 0;
  if (campaign) {
    auto state = fold_stream<CampaignState>(store_, stream);
    if (!state) return state.status();
    campaign_state = std::move(*state);
    version = campaign_state.version;
  } else if (deal) {
    auto state = fold_stream<DealState>(store_, stream);
    if (!state) return state.status();
    deal_state = std::move(*state);
    version = deal_state.version;
    // A lead of the batch links a goal or campaign: the facts are about them.
    for (const auto& c : commands)
      if (c.has_lead_captured()) {
        auto lead_facts = this->facts(c);
        if (!lead_facts) return lead_facts.status();
        facts = std::move(lead_facts);
      }
  } else {
    auto v = store_.stream_version(stream);
    if (!v) return v.status();
    version = *v;
  }
  Events all;
  // The deals the batch's interested responses open, appended before the campaign's batch as
  // a lone response's are, and only once every command of the batch is decided.
  std::vector<DealOpening> opened;
  auto refuse = [](Status s, std::size_t i) {
    s.add_param("batch_index", std::to_string(i));
    return s;
  };
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (repeated[i]) continue;
    const auto& c = commands[i];
    Result<Events> decided = campaign ? decide_campaign(campaign_state, c, *facts)
                             : deal   ? decide_deal(deal_state, c, *facts)
                                      : decide_workspace(c, *facts);
    if (!decided) return refuse(decided.status(), i);
    if (decided->empty()) continue;  // a fact the thread already holds
    if (campaign && c.has_response_received() && !c.response_received().opens_deal_id().empty()) {
      auto o = open_deal(campaign_state, *decided, *facts);
      if (!o) return refuse(o.status(), i);
      for (const auto& other : opened)
        if (other.stream == o->stream) return refuse(Status::exists("two responses of the batch open deal " + o->stream), i);
      opened.push_back(std::move(*o));
      for (auto& e : *decided) all.push_back(std::move(e));
      continue;
    }
    for (auto& e : *decided) {
      if (campaign) apply(campaign_state, e);
      if (deal) apply(deal_state, e);
      if (e.has_assumption_registered()) facts->assumptions.insert(e.assumption_registered().assumption_id());
      if (e.has_goal_defined()) facts->goals[e.goal_defined().goal_id()];
      if (e.has_subgoal_defined()) facts->goals[e.subgoal_defined().goal_id()].insert(e.subgoal_defined().subgoal_id());
      all.push_back(std::move(e));
    }
  }
  Events leads;
  for (auto& o : opened) {
    if (o.lead.empty()) continue;
    auto h = append(o.stream, store::ExpectedVersion::exact(o.version), std::move(o.lead));
    if (!h) return h.status();
    for (auto& e : h->events) leads.push_back(std::move(e));
  }
  if (all.empty() && leads.empty()) {  // every command stated a fact already held
    if (deal) return already_recorded(deal_state, stream, commands.back());
    return Handled{stream, {}, true};
  }
  // A retried import (the same event ids) is an idempotent retry of the whole append.
  auto h = append(stream, store::ExpectedVersion::exact(version), std::move(all));
  if (!h) return h;
  h->events.insert(h->events.begin(), leads.begin(), leads.end());
  return h;
}

}  // namespace leanos
