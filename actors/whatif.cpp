#include "actors/whatif.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

#include "actors/queries.h"
#include "events/ids.h"
#include "events/rules.h"
#include "events/thread.h"
#include "events/time.h"

namespace leanos {

namespace {

constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

// What the scenario leaves out, and on from it, what those events caused.
class LeftOut {
 public:
  std::set<std::string> streams, ids;
  std::vector<std::pair<std::string, Micros>> types_from;  // type, from
  std::size_t count = 0;

  bool keep(const Envelope& e) {
    const bool out = streams.count(e.stream()) || ids.count(e.event_id()) ||
                     (!e.causation_id().empty() && ids.count(e.causation_id())) ||
                     std::any_of(types_from.begin(), types_from.end(), [&](const auto& t) {
                       return t.first == e.type() && from_timestamp(e.occurred_at()) >= t.second;
                     });
    if (!out) return true;
    ids.insert(e.event_id());  // what it caused goes too
    ++count;
    return false;
  }
};

// The business time from which `without` changes anything, and the filter it makes.
Status leave_out(const store::EventStore& store, const v1::Without& w, LeftOut& out, Micros& earliest) {
  auto earliest_of_stream = [&](const std::string& stream, const std::string& what) -> Status {
    auto events = store.read_stream(stream, 1, store::Direction::forward, kAll);
    if (!events) return events.status();
    if (events->empty()) return Status::not_found(what + " has no events to leave out");
    for (const auto& e : *events) earliest = std::min(earliest, from_timestamp(e.occurred_at()));
    out.streams.insert(stream);
    return Status::success();
  };
  switch (w.what_case()) {
    case v1::Without::kDealId:
      if (auto s = check_slug("deal id", w.deal_id()); !s) return s;
      return earliest_of_stream(deal_stream(w.deal_id()), "deal '" + w.deal_id() + "'");
    case v1::Without::kCampaignId:
      if (auto s = check_slug("campaign id", w.campaign_id()); !s) return s;
      return earliest_of_stream(campaign_stream(w.campaign_id()), "campaign '" + w.campaign_id() + "'");
    case v1::Without::kEventId: {
      auto at = store.find_event_id(w.event_id());
      if (!at) return at.status();
      if (!at->has_value()) return Status::not_found("no event has the id '" + w.event_id() + "'");
      auto e = store.read_event(**at);
      if (!e) return e.status();
      earliest = std::min(earliest, from_timestamp(e->occurred_at()));
      out.ids.insert(w.event_id());
      return Status::success();
    }
    case v1::Without::kTypeFrom: {
      const auto& t = w.type_from();
      if (auto s = check_event_type_filter(t.type()); !s) return Status::invalid("type_from.type: " + s.message());
      auto from = parse_time(t.from());
      if (!from) return Status::invalid("type_from.from: " + from.status().message());
      earliest = std::min(earliest, *from);
      out.types_from.emplace_back(t.type(), *from);
      return Status::success();
    }
    case v1::Without::WHAT_NOT_SET: break;
  }
  return Status::invalid("without: give a deal_id, campaign_id, event_id or type_from");
}

// A `with` command decided by the rules against its stream on the branch: the stream's events
// the branch keeps, then the branch's own before it.
Result<Events> decide_on_branch(const store::EventStore& store, CommandHandler& handler, const Envelope& c, LeftOut left_out,
                                const std::vector<Envelope>& added) {
  const std::string stream = stream_of_command(c);
  if (stream.empty()) return Status::invalid("'" + c.type() + "' is not a command");
  auto logged = store.read_stream(stream, 1, store::Direction::forward, kAll);
  if (!logged) return logged.status();
  std::vector<Envelope> events;
  for (const auto& e : *logged)
    if (left_out.keep(e)) events.push_back(e);
  for (const auto& e : added)
    if (e.stream() == stream) events.push_back(e);
  auto facts = handler.facts(c);
  if (!facts) return facts.status();
  for (const auto& e : added) {  // what the branch's own events add to the facts
    if (e.has_assumption_registered()) facts->assumptions.insert(e.assumption_registered().assumption_id());
    if (e.has_goal_defined()) facts->goals[e.goal_defined().goal_id()];
    if (e.has_subgoal_defined()) facts->goals[e.subgoal_defined().goal_id()].insert(e.subgoal_defined().subgoal_id());
    if (e.has_campaign_opened()) facts->campaigns.insert(e.campaign_opened().campaign_id());
  }
  std::erase_if(facts->campaigns, [&](const std::string& id) { return left_out.streams.count(campaign_stream(id)) > 0; });  // and what it leaves out takes away
  if (!deal_id_of(c).empty()) {
    DealState s;
    for (const auto& e : events) apply(s, e);
    return decide_deal(s, c, *facts);
  }
  if (!campaign_id_of(c).empty()) {
    CampaignState s;
    for (const auto& e : events) apply(s, e);
    return decide_campaign(s, c, *facts);
  }
  if (c.has_icp_defined() || c.has_narrative_written() || c.has_material_published() || c.has_material_feedback()) {
    SegmentState s;
    for (const auto& e : events) apply(s, e);
    return decide_segment(s, c);
  }
  if (c.has_document_written()) {
    DocumentsState s;
    for (const auto& e : events) apply(s, e);
    return decide_document_in(store, s, c);
  }
  return decide_workspace(c, *facts);
}

std::string text_of(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f, int i) {
  std::string out;
  if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE && f->message_type() == google::protobuf::Timestamp::descriptor()) {
    const auto& t = static_cast<const google::protobuf::Timestamp&>(i < 0 ? m.GetReflection()->GetMessage(m, f)
                                                                          : m.GetReflection()->GetRepeatedMessage(m, f, i));
    return format_time(from_timestamp(t));
  }
  const auto* r = m.GetReflection();
  switch (f->cpp_type()) {  // a value as the views' words say it
    case google::protobuf::FieldDescriptor::CPPTYPE_STRING: return i < 0 ? r->GetString(m, f) : r->GetRepeatedString(m, f, i);
    case google::protobuf::FieldDescriptor::CPPTYPE_ENUM: return word(i < 0 ? r->GetEnum(m, f) : r->GetRepeatedEnum(m, f, i));
    case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", i < 0 ? r->GetDouble(m, f) : r->GetRepeatedDouble(m, f, i));
      return buf;
    }
    default: break;
  }
  if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {  // a whole entry: as JSON, on one line
    const auto& x = i < 0 ? m.GetReflection()->GetMessage(m, f) : m.GetReflection()->GetRepeatedMessage(m, f, i);
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (google::protobuf::util::MessageToJsonString(x, &out, options).ok()) return out;
    out.clear();
  }
  google::protobuf::TextFormat::Printer p;
  p.SetSingleLineMode(true);
  p.PrintFieldValueToString(m, f, i, &out);
  if (out.size() > 200) out = out.substr(0, 197) + "...";
  return out;
}

// The field a repeated message is matched by, when it has one.
const google::protobuf::FieldDescriptor* key_of(const google::protobuf::Descriptor* d) {
  for (const char* name : {"id", "deal_id", "goal_id", "assumption_id", "campaign_id", "subgoal_id", "metric", "segment", "path", "name"})
    if (const auto* f = d->FindFieldByName(name); f && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) return f;
  return nullptr;
}

void diff(const google::protobuf::Message& a, const google::protobuf::Message& b, const std::string& path, std::vector<v1::Difference>& out) {
  using google::protobuf::FieldDescriptor;
  const auto* d = a.GetDescriptor();
  const auto* ra = a.GetReflection();
  const auto* rb = b.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->name() == "position") continue;  // where in the log: a branch's own events lie past its end
    const std::string here = path.empty() ? f->name() : path + "." + f->name();
    auto note = [&](const std::string& x, const std::string& y, const std::string& where) {
      if (x == y) return;
      v1::Difference dd;
      dd.set_path(where);
      dd.set_reality(x);
      dd.set_branch(y);
      out.push_back(std::move(dd));
    };
    if (f->is_map()) {  // by key: the printed entries
      const int na = ra->FieldSize(a, f), nb = rb->FieldSize(b, f);
      std::map<std::string, const google::protobuf::Message*> ea, eb;
      const auto* kf = f->message_type()->map_key();
      for (int j = 0; j < na; ++j) {
        const auto& m = ra->GetRepeatedMessage(a, f, j);
        ea[text_of(m, kf, -1)] = &m;
      }
      for (int j = 0; j < nb; ++j) {
        const auto& m = rb->GetRepeatedMessage(b, f, j);
        eb[text_of(m, kf, -1)] = &m;
      }
      std::set<std::string> keys;
      for (const auto& [k, m] : ea) keys.insert(k);
      for (const auto& [k, m] : eb) keys.insert(k);
      for (const auto& k : keys) {
        const auto* vf = f->message_type()->map_value();
        const std::string at = here + "[" + k + "]";
        auto ia = ea.find(k), ib = eb.find(k);
        if (ia == ea.end() || ib == eb.end()) {
          note(ia == ea.end() ? "(none)" : text_of(*ia->second, vf, -1), ib == eb.end() ? "(none)" : text_of(*ib->second, vf, -1), at);
        } else if (vf->type() == FieldDescriptor::TYPE_MESSAGE) {
          diff(ia->second->GetReflection()->GetMessage(*ia->second, vf), ib->second->GetReflection()->GetMessage(*ib->second, vf), at, out);
        } else {
          note(text_of(*ia->second, vf, -1), text_of(*ib->second, vf, -1), at);
        }
      }
    } else if (f->is_repeated()) {
      const int na = ra->FieldSize(a, f), nb = rb->FieldSize(b, f);
      const auto* key = f->type() == FieldDescriptor::TYPE_MESSAGE ? key_of(f->message_type()) : nullptr;
      if (key) {
        std::map<std::string, const google::protobuf::Message*> ea, eb;
        std::vector<std::string> order;
        for (int j = 0; j < na; ++j) {
          const auto& m = ra->GetRepeatedMessage(a, f, j);
          const std::string k = m.GetReflection()->GetString(m, key);
          if (ea.emplace(k, &m).second) order.push_back(k);
        }
        for (int j = 0; j < nb; ++j) {
          const auto& m = rb->GetRepeatedMessage(b, f, j);
          const std::string k = m.GetReflection()->GetString(m, key);
          if (eb.emplace(k, &m).second && !ea.count(k)) order.push_back(k);
        }
        for (const auto& k : order) {
          const std::string at = here + "[" + k + "]";
          auto ia = ea.find(k), ib = eb.find(k);
          if (ia == ea.end()) note("(none)", "present", at);
          else if (ib == eb.end()) note("present", "(none)", at);
          else diff(*ia->second, *ib->second, at, out);
        }
      } else {
        for (int j = 0; j < std::max(na, nb); ++j) {
          const std::string at = here + "[" + std::to_string(j) + "]";
          if (j >= na) note("(none)", text_of(b, f, j), at);
          else if (j >= nb) note(text_of(a, f, j), "(none)", at);
          else if (f->type() == FieldDescriptor::TYPE_MESSAGE) diff(ra->GetRepeatedMessage(a, f, j), rb->GetRepeatedMessage(b, f, j), at, out);
          else note(text_of(a, f, j), text_of(b, f, j), at);
        }
      }
    } else if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      const bool ha = ra->HasField(a, f), hb = rb->HasField(b, f);
      if (!ha && !hb) continue;
      if (f->message_type() == google::protobuf::Timestamp::descriptor()) {
        note(ha ? text_of(a, f, -1) : "(none)", hb ? text_of(b, f, -1) : "(none)", here);
        continue;
      }
      if (ha && hb) diff(ra->GetMessage(a, f), rb->GetMessage(b, f), here, out);
      else note(ha ? text_of(a, f, -1) : "(none)", hb ? text_of(b, f, -1) : "(none)", here);
    } else {
      note(text_of(a, f, -1), text_of(b, f, -1), here);
    }
  }
}

}  // namespace

std::vector<v1::Difference> differences(const google::protobuf::Message& reality, const google::protobuf::Message& branch) {
  std::vector<v1::Difference> out;
  diff(reality, branch, "", out);
  return out;
}

v1::WhatIfRequest with_saved(const v1::WhatIfRequest& request, const v1::SavedScenario& saved) {
  v1::WhatIfRequest out = request;
  out.clear_scenario();
  out.clear_without();
  out.clear_with();
  *out.mutable_without() = saved.without();
  out.mutable_without()->MergeFrom(request.without());
  *out.mutable_with() = saved.with();
  out.mutable_with()->MergeFrom(request.with());
  auto& q = *out.mutable_query();
  if (q.as_of().empty() && q.known_at().empty() && !q.has_at_position()) {
    q.set_as_of(saved.as_of());
    q.set_known_at(saved.known_at());
  }
  return out;
}

Envelope save_command(const v1::WhatIfRequest& request, Micros at) {
  v1::ScenarioSaved d;
  d.set_name(request.save());
  d.set_description(request.description());
  *d.mutable_without() = request.without();
  for (const auto& c : request.with()) d.add_with(c.SerializeAsString());
  d.set_as_of(request.query().as_of());
  d.set_known_at(request.query().known_at());
  Envelope c = make_event(d, at);
  c.set_event_id(new_event_id());
  c.set_actor(request.actor().empty() ? "what-if" : request.actor());
  return c;
}

Result<v1::SavedScenario> saved_scenario(store::EventStore& store, const std::string& name) {
  v1::QueryRequest q;
  q.mutable_scenarios()->set_name(name);
  auto r = answer_query(store, q, now_micros());
  if (!r) return r.status();
  return r->scenarios().scenarios(r->scenarios().scenarios_size() - 1);
}

Result<v1::WhatIfReply> what_if(store::EventStore& store, CommandHandler& handler, const v1::WhatIfRequest& asked, Micros clock) {
  v1::SavedScenario ran;
  if (!asked.scenario().empty()) {
    auto saved = saved_scenario(store, asked.scenario());
    if (!saved) return saved.status();
    ran = std::move(*saved);
  }
  const v1::WhatIfRequest request = asked.scenario().empty() ? asked : with_saved(asked, ran);
  if (request.without().empty() && request.with().empty())
    return Status::invalid("a scenario needs a change: something to leave out (without) or a command to add (with)");
  LeftOut left_out;
  Micros earliest = kEndOfTime;
  for (const auto& w : request.without())
    if (auto s = leave_out(store, w, left_out, earliest); !s) return s;
  // The `with` commands, each decided on the branch as the ones before it leave it.
  const std::uint64_t last = store.last_position();
  Branch branch;
  for (int i = 0; i < request.with_size(); ++i) {
    Envelope c = request.with(i);
    const auto* payload = payload_of(c);
    if (!payload)
      return Status::invalid("with " + std::to_string(i + 1) + ": a command needs its payload (deal_closed, assumption_revised, …)")
          .add_param("with_index", std::to_string(i));
    c.set_type(payload->GetDescriptor()->name());
    if (!c.has_occurred_at()) to_timestamp(clock, c.mutable_occurred_at());
    if (c.event_id().empty()) c.set_event_id(derived_event_id("whatif:" + std::to_string(i), c.SerializeAsString()));
    if (c.actor().empty()) c.set_actor("what-if");
    auto decided = decide_on_branch(store, handler, c, left_out, branch.extra);
    if (!decided) {
      Status s = decided.status();
      s.add_param("with_index", std::to_string(i));
      return Status::rule(s.code(), s.rule_id(), "on the branch, with " + std::to_string(i + 1) + " (" + c.type() + "): " + s.reason(), s.hint(),
                          s.params());
    }
    for (auto& e : *decided) {
      e.set_stream(stream_of_command(c));
      e.set_position(last + branch.extra.size() + 1);
      e.set_correlation_id(e.stream());
      to_timestamp(clock, e.mutable_recorded_at());
      earliest = std::min(earliest, from_timestamp(e.occurred_at()));
      branch.extra.push_back(std::move(e));
    }
  }
  std::stable_sort(branch.extra.begin(), branch.extra.end(), [](const Envelope& a, const Envelope& b) {
    return std::make_pair(from_timestamp(a.occurred_at()), a.position()) < std::make_pair(from_timestamp(b.occurred_at()), b.position());
  });
  branch.changes_from = earliest;
  LeftOut counting = left_out;  // the fold's own copy: it learns what the left-out events caused
  branch.keep = [&counting](const Envelope& e) { return counting.keep(e); };

  v1::WhatIfReply reply;
  auto reality = answer_query(store, request.query(), clock);
  if (!reality) return reality.status();
  auto theirs = answer_on_branch(store, request.query(), clock, branch);
  if (!theirs) return theirs.status();
  *reply.mutable_reality() = std::move(*reality);
  *reply.mutable_branch() = std::move(*theirs);
  for (auto& d : differences(reply.reality(), reply.branch())) *reply.add_differences() = std::move(d);
  reply.set_events_left_out(static_cast<std::uint32_t>(counting.count));
  reply.set_events_added(static_cast<std::uint32_t>(branch.extra.size()));
  if (!asked.scenario().empty()) *reply.mutable_scenario() = std::move(ran);
  return reply;
}

}  // namespace leanos
