// What an append must be before the writer takes it: what may be stored (check_storable),
// the appender's preparation (ids, checks, sealing, the record's body, on its own thread),
// the writer's validation of each append in its group (ids, expected versions, idempotent
// retries), and a replica's checks. The write path itself: event_store.cpp.
#include "store/event_store_impl.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace leanos::store {

// ---- What may be stored ------------------------------------------------------------------

Status check_storable(Envelope& e) {
  const std::string id = e.event_id().empty() ? std::string("without id") : e.event_id();
  static const auto* payload = Envelope::descriptor()->FindOneofByName("payload");
  const auto* field = e.GetReflection()->GetOneofFieldDescriptor(e, payload);
  if (field != nullptr && field->number() != Envelope::kGeneric) {
    const std::string& name = field->message_type()->name();
    if (e.type().empty()) e.set_type(name);
    if (e.type() != name)
      return Status::invalid("event " + id + " has type '" + e.type() + "' but carries a " + name +
                             " payload; a domain event's type is its payload's name ('" + name + "')");
  } else {
    if (e.type().empty()) return Status::invalid("event " + id + " has no type; give one, e.g. NoteTaken");
    for (int i = 0; i < payload->field_count(); ++i)
      if (payload->field(i)->number() != Envelope::kGeneric && payload->field(i)->message_type()->name() == e.type())
        return Status::invalid("event " + id + " has the domain type '" + e.type() +
                               "' but no such payload; domain events are recorded through commands (leanos deal …, "
                               "the Command RPC), generic events need a type of their own");
  }
  if (e.has_sealed())
    return Status::invalid("event " + id + " carries sealed fields: the store seals personal fields itself; send them as "
                           "plain text in their own fields");
  if (e.has_occurred_at())
    if (auto s = check_timestamp("occurred_at of event " + id, e.occurred_at()); !s) return s;
  if (auto bad = invalid_utf8_field(e))
    return Status::invalid("event " + id + ": field " + *bad + " is not valid UTF-8; every text must be UTF-8");
  if (const auto size = e.ByteSizeLong(); size > kMaxEventBytes)
    return Status::invalid("event " + id + " is " + std::to_string(size) + " bytes; the most an event may hold is " +
                           std::to_string(kMaxEventBytes) + " bytes (1 MiB): store large documents elsewhere and "
                           "record a reference");
  return Status::success();
}

namespace {

// Where a record without the writer's fields (see Pending::bodies) takes recorded_at: after
// its leading event_id and type, the only fields numbered below it that the body holds.
std::size_t record_split(const std::string& body) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(body.data()), static_cast<int>(body.size()));
  for (;;) {
    const auto at = static_cast<std::size_t>(in.CurrentPosition());
    const auto tag = in.ReadTag();
    if (tag == 0 || google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag) > Envelope::kTypeFieldNumber ||
        !google::protobuf::internal::WireFormatLite::SkipField(&in, tag))
      return at;
  }
}

}  // namespace

Result<AppendResult> EventStore::Impl::validate(Pending& p, const std::unordered_map<std::string, std::uint64_t>& tentative_versions,
                                const std::unordered_map<std::string, std::uint64_t>& tentative_ids) {
  if (auto s = check_stream_name(p.stream); !s) return s;
  if (p.events.empty()) return Status::invalid("an append needs at least one event");
  if (vault->locked())
    return Status(Code::read_only, "the workspace is locked, nothing can be recorded: " + vault->locked_reason());
  if (!p.prepared) return Status::invalid("an append that was not prepared");  // every path calls prepare()
  std::unordered_set<std::string> ids;
  for (auto& e : p.events) {
    if (!ids.insert(e.event_id()).second)
      return Status::invalid("event id " + e.event_id() + " appears twice in one append");
    if (!e.stream().empty() && e.stream() != p.stream)
      return Status::invalid("event " + e.event_id() + " names stream '" + e.stream() +
                             "' but is appended to '" + p.stream + "'");
  }

  // Idempotency: all ids known -> the original positions; some known -> error.
  std::vector<std::uint64_t> known;
  std::string first_known, first_new;
  for (std::size_t i = 0; i < p.events.size(); ++i) {
    const auto& e = p.events[i];
    std::optional<std::uint64_t> pos;
    if (i < p.fresh_ids.size() && p.fresh_ids[i]) {
      // made by prepare(): new
    } else if (auto it = tentative_ids.find(e.event_id()); it != tentative_ids.end()) {
      pos = it->second;
    } else {
      auto found = position_of_id(e.event_id());
      if (!found) return found.status();
      pos = *found;
    }
    if (pos) {
      known.push_back(*pos);
      if (first_known.empty()) first_known = e.event_id();
    } else if (first_new.empty()) {
      first_new = e.event_id();
    }
  }
  if (!known.empty()) {
    if (known.size() != p.events.size())
      return Status::exists("event id " + first_known + " is already stored but " + first_new +
                            " is not: a retry must resend exactly the original events");
    AppendResult r;
    r.idempotent_retry = true;
    for (std::size_t i = 0; i < known.size(); ++i) {
      if (tentative_ids.count(p.events[i].event_id()))
        return Status::exists("event id " + p.events[i].event_id() + " is appended twice in one group");
      auto stored = load(known[i]);
      if (!stored) return stored.status();
      Envelope candidate = p.events[i];
      candidate.set_stream(p.stream);
      if (auto opened = vault->unseal(candidate); !opened) return opened;
      if (!same_content(*stored, candidate))
        return Status::exists("event id " + p.events[i].event_id() + " is already stored at position " +
                              std::to_string(known[i]) + " with different content; use a new event id");
      r.positions.push_back(known[i]);
      r.versions.push_back(stored->version());
      r.recorded_at.push_back(from_timestamp(stored->recorded_at()));
      r.stream_version = std::max(r.stream_version, stored->version());
    }
    return r;
  }

  std::uint64_t current = 0;
  if (auto it = tentative_versions.find(p.stream); it != tentative_versions.end()) {
    current = it->second;
  } else if (auto it2 = versions.find(p.stream); it2 != versions.end()) {
    current = it2->second;
  } else {
    auto v = stored_version(p.stream);
    if (!v) return v.status();
    current = versions[p.stream] = *v;
  }

  const auto& ex = p.expected;
  const bool fits = ex.kind == ExpectedVersion::Kind::any ||
                    (ex.kind == ExpectedVersion::Kind::no_stream && current == 0) ||
                    (ex.kind == ExpectedVersion::Kind::exists && current > 0) ||
                    (ex.kind == ExpectedVersion::Kind::exact && current == ex.version);
  if (!fits) {
    const std::string actual = current == 0 ? "no_stream (the stream has no events)" : std::to_string(current);
    return Status::conflict("wrong expected version for stream '" + p.stream + "': expected " +
                            ex.to_string() + ", actual " + actual);
  }
  AppendResult r;
  r.stream_version = current;
  return r;
}

Status EventStore::Impl::check_replica(const Envelope& e, std::uint64_t at, std::uint64_t version, Micros floor) const {
  const std::string which = "event " + e.event_id() + " (position " + std::to_string(e.position()) + " of the copy)";
  if (e.position() != at + 1)
    return Status::invalid(which + " would be position " + std::to_string(at + 1) +
                           " here: a copy is replicated whole, in position order, into a log that ends where it starts");
  if (e.version() != version + 1)
    return Status::invalid(which + " is version " + std::to_string(e.version()) + " of stream '" + e.stream() +
                           "', which holds " + std::to_string(version) + " events here; expected version " +
                           std::to_string(version + 1));
  if (!e.has_recorded_at() || !e.has_occurred_at())
    return Status::invalid(which + " has no recorded_at or occurred_at: a copy keeps both");
  if (from_timestamp(e.recorded_at()) < floor)
    return Status::invalid(which + " was recorded at " + format_time(from_timestamp(e.recorded_at())) +
                           ", before the event ahead of it (" + format_time(floor) + "): recorded times never go back");
  return Status::success();
}

// ---- Sealing personal fields on the way in (store/personal.h) -----------------------------
Status EventStore::Impl::prepare(Pending& p) {
  if (auto s = check_stream_name(p.stream); !s) return s;
  // The streams the workflow's rules own hold only the domain's events, whoever appends: a
  // generic event there would be read by folds and by import's idempotency as if it were one.
  const bool reserved = is_domain_stream(p.stream);
  p.fresh_ids.assign(p.events.size(), false);
  for (std::size_t i = 0; i < p.events.size(); ++i) {
    auto& e = p.events[i];
    if (e.event_id().empty()) {
      e.set_event_id(new_event_id());
      p.fresh_ids[i] = true;
    }
    if (p.replica && e.has_sealed()) {  // a copy sealed where it was recorded: stored as it is
      v1::Sealed seal = std::move(*e.mutable_sealed());
      e.clear_sealed();
      auto s = check_storable(e);
      *e.mutable_sealed() = std::move(seal);
      if (!s) return s;
      if (auto c = vault->check_sealed(e); !c) return c;
    } else if (auto s = check_storable(e); !s) {
      return s;
    }
    if (reserved && (e.payload_case() == Envelope::kGeneric || e.payload_case() == Envelope::PAYLOAD_NOT_SET))
      return Status::precondition("stream '" + p.stream + "' belongs to the workflow's rules and holds only its events; event " +
                                  e.event_id() + " (" + e.type() +
                                  ") is a generic event: append it to a stream of your own (e.g. notes-1), or record the "
                                  "domain event through its command");
  }
  p.assumed.assign(p.events.size(), std::string());
  if (!vault->locked())  // locked, validate() refuses the append whole
    for (std::size_t i = 0; i < p.events.size(); ++i)
      if (!p.events[i].has_sealed())
        if (auto s = vault->seal(p.events[i], [&] { return first_subject(p, i); }, p.key_puts, &p.assumed[i]); !s) return s;
  if (!p.replica) {
    p.bodies.resize(p.events.size());
    p.splits.resize(p.events.size());
    Envelope check;
    for (std::size_t i = 0; i < p.events.size(); ++i) {
      auto& e = p.events[i];
      if (!e.stream().empty() && e.stream() != p.stream)
        return Status::invalid("event " + e.event_id() + " names stream '" + e.stream() + "' but is appended to '" + p.stream + "'");
      // The writer's to fill in; whatever a caller put there is not kept.
      e.clear_position();
      e.clear_stream();
      e.clear_version();
      e.clear_recorded_at();
      e.SerializeToString(&p.bodies[i]);
      if (!check.ParseFromString(p.bodies[i]))
        return Status::invalid("event " + e.event_id() + " does not read back after encoding; nothing was written");
      p.splits[i] = record_split(p.bodies[i]);
    }
  }
  p.prepared = true;
  return Status::success();
}

}  // namespace leanos::store
