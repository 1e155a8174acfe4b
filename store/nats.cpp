// The log in NATS JetStream: see store/nats.h.
#include "store/nats.h"

#include <nats/nats.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "events/time.h"
#include "store/personal.h"

namespace leanos::store {

namespace {

constexpr const char* kPosition = "Leanos-Position";

std::string text(natsStatus s) { return natsStatus_GetText(s); }

// A JetStream call's failure: the server's words when it sent some, the client's otherwise.
Status nats_error(natsStatus s, jsErrCode code, const std::string& doing) {
  std::string why = text(s);
  if (const char* last = nats_GetLastError(nullptr); last && *last) why = last;
  const bool unreachable = s == NATS_NO_SERVER || s == NATS_CONNECTION_CLOSED || s == NATS_TIMEOUT ||
                           s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION || s == NATS_IO_ERROR ||
                           s == NATS_NO_RESPONDERS;
  return Status(unreachable ? Code::network : Code::io_error,
                doing + ": " + why + (code ? " (JetStream error " + std::to_string(code) + ")" : ""));
}

std::string header(natsMsg* m, const char* key) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v) return {};
  return v;
}

std::uint64_t parse_position(const std::string& s) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return 0;
  return std::stoull(s);
}


}  // namespace

Status check_workspace_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return Status::invalid("a workspace name is 1 to 64 characters (a-z, 0-9, '-', '_'), got " + std::to_string(name.size()));
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) {
      const auto shown = static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f
                             ? "byte " + std::to_string(static_cast<unsigned char>(c))
                             : "'" + std::string(1, c) + "'";
      return Status::invalid("workspace name '" + std::string(name.substr(0, 64)) + "' has " + shown +
                             ": use a-z, 0-9, '-' and '_' (it names a NATS subject token and a folder)");
    }
  }
  return Status::success();
}

std::string nats_subject(std::string_view workspace, std::string_view stream) {
  auto token = [](std::string_view s) {
    std::string out;
    for (char c : s) out += c == '.' ? std::string("%2E") : std::string(1, c);
    return out.empty() ? std::string("_") : out;
  };
  const auto dash = stream.find('-');
  const auto type = stream.substr(0, dash);
  const auto id = dash == std::string_view::npos ? std::string_view() : stream.substr(dash + 1);
  return "leanos." + std::string(workspace) + "." + token(type) + "." + token(id);
}

std::string jetstream_stream_name(std::string_view workspace) { return "LEANOS_" + std::string(workspace); }
std::string jetstream_key_stream_name(std::string_view workspace) { return "LEANOS_" + std::string(workspace) + "_KEYS"; }

struct JetStreamLog::Impl {
  JetStreamOptions options;
  std::string stream, subjects;
  std::string key_stream, key_prefix;  // "leanos-keys.<workspace>."
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::uint64_t published = 0;  // the last position published (and acknowledged)
  std::mutex mu;
  Status first_failure;  // from the asynchronous acknowledgements
  std::vector<std::string> taken;  // key records refused: their subject holds one already

  ~Impl() {
    if (js) jsCtx_Destroy(js);
    if (nc) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
    if (opts) natsOptions_Destroy(opts);
  }

  static void on_error(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::lock_guard lock(self->mu);
    const std::string subject = pae->Msg ? natsMsg_GetSubject(pae->Msg) : "";
    if (subject.starts_with(self->key_prefix) && pae->ErrCode == JSStreamWrongLastSequenceErr) {
      self->taken.push_back(subject);  // the key stream holds a record there already
      return;
    }
    if (!self->first_failure.is_ok()) return;
    if (subject.starts_with(self->key_prefix)) {
      self->first_failure = Status(Code::network, "JetStream refused the key record " + subject + ": " +
                                                      (pae->ErrText ? pae->ErrText : text(pae->Err)));
      return;
    }
    const std::string id = pae->Msg ? header(pae->Msg, "Nats-Msg-Id") : std::string();
    const std::string pos = pae->Msg ? header(pae->Msg, kPosition) : std::string();
    const std::string why = pae->ErrText ? pae->ErrText : text(pae->Err);
    // A wrong last sequence: JetStream holds other than the position before this one (a
    // second relay, or a copy published again after the de-duplication window).
    self->first_failure = Status(pae->ErrCode == JSStreamWrongLastSequenceErr ? Code::conflict : Code::network,
                                 "JetStream refused event " + id + " (position " + pos + "): " + why);
  }
};

JetStreamLog::JetStreamLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStreamLog::~JetStreamLog() = default;

Result<std::unique_ptr<JetStreamLog>> JetStreamLog::connect(const JetStreamOptions& o) {
  if (auto s = check_workspace_name(o.workspace); !s) return s;
  if (o.url.empty()) return Status::invalid("--nats needs a URL, e.g. nats://127.0.0.1:4222");
  if (o.replicas < 1 || o.replicas > 5) return Status::invalid("replicas must be 1 to 5, got " + std::to_string(o.replicas));
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  impl->stream = jetstream_stream_name(o.workspace);
  impl->subjects = "leanos." + o.workspace + ".>";
  impl->key_stream = jetstream_key_stream_name(o.workspace);
  impl->key_prefix = "leanos-keys." + o.workspace + ".";
  const auto ms = static_cast<int64_t>(o.timeout.count());
  natsStatus s = natsOptions_Create(&impl->opts);
  std::vector<std::string> urls;  // a cluster: every node's URL, comma-separated
  for (std::size_t at = 0; at <= o.url.size();) {
    const auto comma = std::min(o.url.find(',', at), o.url.size());
    if (comma > at) urls.push_back(o.url.substr(at, comma - at));
    at = comma + 1;
  }
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(impl->opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(impl->opts, ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(impl->opts, 10);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(impl->opts, 200);
  if (s != NATS_OK) return Status::invalid("NATS URL '" + o.url + "': " + text(s));
  s = natsConnection_Connect(&impl->nc, impl->opts);
  if (s != NATS_OK) return nats_error(s, static_cast<jsErrCode>(0), "cannot reach NATS at " + o.url);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ms;
  jo.PublishAsync.MaxPending = 8192;
  jo.PublishAsync.ErrHandler = &Impl::on_error;
  jo.PublishAsync.ErrHandlerClosure = impl.get();
  if (s = natsConnection_JetStream(&impl->js, impl->nc, &jo); s != NATS_OK)
    return nats_error(s, static_cast<jsErrCode>(0), "JetStream at " + o.url);
  return std::unique_ptr<JetStreamLog>(new JetStreamLog(std::move(impl)));
}

namespace {

// Calls `f` until it succeeds or fails with another code than `retried`, at most six times
// with a growing pause: a consumer that times out while a node of the cluster restarts, or a
// stream elects its leader, is made again.
Status with_retries(const std::function<Status()>& f, Code retried = Code::network) {
  auto pause = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    auto s = f();
    if (s.is_ok() || s.code() != retried || attempt >= 6) return s;
    std::this_thread::sleep_for(pause);
    pause *= 2;
  }
}

// Creates stream `name` taking `subjects` when it is missing; refuses one that does not take them.
Status ensure(jsCtx* js, const std::string& name, const std::string& subjects, const JetStreamOptions& o, bool one_per_subject) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, name.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    bool takes = false;
    for (int i = 0; si->Config && i < si->Config->SubjectsLen; ++i) takes = takes || subjects == si->Config->Subjects[i];
    jsStreamInfo_Destroy(si);
    if (!takes)
      return Status::invalid("JetStream stream " + name + " exists but does not take the subjects " + subjects +
                             ": it was made for something else; remove it or relay under another workspace name");
    return Status::success();
  }
  if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) return nats_error(s, code, "looking up JetStream stream " + name);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  const char* list[] = {subjects.c_str()};
  cfg.Subjects = list;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = o.replicas;
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(o.dedup_window).count();
  if (one_per_subject) cfg.MaxMsgsPerSubject = 1;
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&si, js, &cfg, nullptr, &code);
  if (s != NATS_OK) return nats_error(s, code, "creating JetStream stream " + name);
  jsStreamInfo_Destroy(si);
  return Status::success();
}

}  // namespace

Status JetStreamLog::ensure_stream() {
  if (auto s = ensure(impl_->js, impl_->stream, impl_->subjects, impl_->options, false); !s) return s;
  return ensure(impl_->js, impl_->key_stream, impl_->key_prefix + ">", impl_->options, true);
}

Result<std::size_t> JetStreamLog::publish_keys(const EventStore::WrappedKeys& keys) {
  std::unordered_map<std::string, const std::string*> records;  // subject -> record
  if (!keys.salt.empty()) records.emplace(impl_->key_prefix + "salt", &keys.salt);
  for (const auto& [hash, value] : keys.subjects) records.emplace(impl_->key_prefix + "s." + to_hex(hash), &value);
  if (records.empty()) return std::size_t{0};
  {
    std::lock_guard lock(impl_->mu);
    impl_->first_failure = Status::success();
    impl_->taken.clear();
  }
  // Pipelined, each only where its subject holds nothing yet (an expected last subject
  // sequence of 0); the subjects JetStream refuses so are then compared one at a time.
  for (const auto& [subject, value] : records) {
    natsMsg* m = nullptr;
    natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, value->data(), static_cast<int>(value->size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Expected-Last-Subject-Sequence", "0");
    if (s == NATS_OK) s = js_PublishMsgAsync(impl_->js, &m, nullptr);
    natsMsg_Destroy(m);
    if (s != NATS_OK) return nats_error(s, static_cast<jsErrCode>(0), "publishing " + subject + " to " + impl_->key_stream);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = static_cast<int64_t>(impl_->options.timeout.count());
  const natsStatus done = js_PublishAsyncComplete(impl_->js, &po);
  std::vector<std::string> taken;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->first_failure.is_ok()) return impl_->first_failure;
    taken = std::move(impl_->taken);
  }
  if (done != NATS_OK) return nats_error(done, static_cast<jsErrCode>(0), "waiting for JetStream to acknowledge the keys");
  std::size_t published = records.size() - taken.size();
  for (const auto& subject : taken) {
    const std::string& value = *records.at(subject);
    auto held = last_key_record(subject);
    if (!held) return held.status();
    if (*held && (*held)->data == value) continue;
    // Another wrapping of it (a rotated master key): the old one erased, not just superseded.
    if (*held)
      if (auto s = erase_key_record(subject, (*held)->seq); !s) return s;
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_Publish(&ack, impl_->js, subject.c_str(), value.data(), static_cast<int>(value.size()), nullptr, &code);
    jsPubAck_Destroy(ack);
    if (s != NATS_OK) return nats_error(s, code, "publishing " + subject + " to " + impl_->key_stream);
    ++published;
  }
  return published;
}

Result<std::optional<JetStreamLog::KeyRecord>> JetStreamLog::last_key_record(const std::string& subject) {
  natsMsg* m = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&m, impl_->js, impl_->key_stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr || code == JSStreamNotFoundErr) return std::optional<KeyRecord>();
  if (s != NATS_OK) return nats_error(s, code, "reading " + subject + " of " + impl_->key_stream);
  KeyRecord r{std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))), natsMsg_GetSequence(m)};
  natsMsg_Destroy(m);
  return std::optional<KeyRecord>(std::move(r));
}

Status JetStreamLog::erase_key_record(const std::string& subject, std::uint64_t seq) {
  jsErrCode code = static_cast<jsErrCode>(0);
  if (natsStatus s = js_EraseMsg(impl_->js, impl_->key_stream.c_str(), seq, nullptr, &code); s != NATS_OK)
    return nats_error(s, code, "erasing " + subject + " from " + impl_->key_stream);
  return Status::success();
}

Status JetStreamLog::erase_key(const std::string& hash) {
  const std::string subject = impl_->key_prefix + "s." + to_hex(hash);
  auto held = last_key_record(subject);
  if (!held) return held.status();
  return *held ? erase_key_record(subject, (*held)->seq) : Status::success();
}

Result<EventStore::WrappedKeys> JetStreamLog::read_keys() {
  Result<EventStore::WrappedKeys> keys = Status::unavailable("");
  auto s = with_retries([&] {
    keys = read_keys_once();
    return keys ? Status::success() : keys.status();
  });
  return s ? keys : Result<EventStore::WrappedKeys>(s);
}

Status JetStreamLog::install_missing_keys(EventStore& store, const std::vector<std::string>& needed) {
  auto missing = [&]() -> Result<std::set<std::string>> {
    auto held = store.wrapped_keys(needed);
    if (!held) return held.status();
    std::set<std::string> out(needed.begin(), needed.end());
    for (const auto& [hash, record] : held->subjects) out.erase(hash);
    return out;
  };
  // Each try reads the key stream again for what the folder lacks; `unavailable` while some
  // is still missing, which with_retries tries again after a pause.
  return with_retries(
      [&]() -> Status {
        auto lacking = missing();
        if (!lacking) return lacking.status();
        if (lacking->empty()) return Status::success();
        auto keys = read_keys();
        if (!keys) return keys.status();
        EventStore::WrappedKeys add;
        add.salt = keys->salt;
        for (auto& [hash, record] : keys->subjects)
          if (lacking->count(hash)) add.subjects.emplace_back(hash, std::move(record));
        if (auto s = store.install_keys(add); !s) return s;
        lacking = missing();
        if (!lacking) return lacking.status();
        if (lacking->empty()) return Status::success();
        return Status::unavailable("JetStream stream " + impl_->key_stream + " lacks the data keys of " + std::to_string(lacking->size()) +
                                   " subject(s) whose events the copy holds sealed (the first: " + to_hex(*lacking->begin()) +
                                   "): the key stream is incomplete, or a replica answered before it caught up; restore again, "
                                   "and if it stays so, relay again from the workspace's own folder");
      },
      Code::unavailable);
}

Result<EventStore::WrappedKeys> JetStreamLog::read_keys_once() {
  EventStore::WrappedKeys out;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->key_stream.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) return out;
  if (s != NATS_OK) return nats_error(s, code, "reading JetStream stream " + impl_->key_stream);
  const std::uint64_t count = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  if (count == 0) return out;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = impl_->key_stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverAll;
  natsSubscription* sub = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_SubscribeSync(&sub, impl_->js, (impl_->key_prefix + ">").c_str(), nullptr, &so, &code);
  if (s != NATS_OK) return nats_error(s, code, "making a consumer of JetStream stream " + impl_->key_stream);
  Status result;
  for (bool more = true; more;) {
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, static_cast<int64_t>(impl_->options.timeout.count()));
    if (s != NATS_OK) {
      result = nats_error(s, static_cast<jsErrCode>(0), "reading JetStream stream " + impl_->key_stream);
      break;
    }
    jsMsgMetaData* meta = nullptr;
    more = false;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
      more = meta->NumPending > 0;
      jsMsgMetaData_Destroy(meta);
    }
    const std::string subject = natsMsg_GetSubject(m);
    std::string data(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
    const std::string name = subject.substr(std::min(subject.size(), impl_->key_prefix.size()));
    if (name == "salt") {
      out.salt = std::move(data);
    } else if (auto hash = name.starts_with("s.") ? subject_hash_from_hex(name.substr(2)) : std::nullopt; hash) {
      out.subjects.emplace_back(std::move(*hash), std::move(data));
    } else {
      result = Status::corruption("JetStream stream " + impl_->key_stream + " holds a foreign message on " + subject +
                                  ": not a key a leanos relay published");
      break;
    }
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  if (!result.is_ok()) return result;
  return out;
}

Result<JetStreamTail> JetStreamLog::tail() {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->stream.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr)
    return Status::not_found("JetStream has no stream " + impl_->stream + " (nothing of workspace '" +
                             impl_->options.workspace + "' was relayed to " + impl_->options.url + ")");
  if (s != NATS_OK) return nats_error(s, code, "reading JetStream stream " + impl_->stream);
  const auto state = si->State;
  jsStreamInfo_Destroy(si);
  JetStreamTail t;
  if (state.Msgs == 0 && state.LastSeq == 0) return t;
  if (state.Msgs != state.LastSeq || state.FirstSeq != 1)
    return Status::corruption("JetStream stream " + impl_->stream + " holds " + std::to_string(state.Msgs) + " messages at sequences " +
                              std::to_string(state.FirstSeq) + " to " + std::to_string(state.LastSeq) +
                              ": not a whole copy of a log from position 1 (purged, or messages deleted); "
                              "relay into a new stream (remove this one) to copy the log again");
  auto id = event_id_at(state.LastSeq);
  if (!id) return id.status();
  t.event_id = *id;
  t.position = impl_->published = state.LastSeq;
  return t;
}

Result<std::string> JetStreamLog::event_id_at(std::uint64_t position) {
  natsMsg* m = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&m, impl_->js, impl_->stream.c_str(), position, nullptr, &code);
  if (s != NATS_OK) return nats_error(s, code, "reading position " + std::to_string(position) + " of " + impl_->stream);
  const std::uint64_t stored = parse_position(header(m, kPosition));
  const std::string id = header(m, "Nats-Msg-Id");
  const std::string subject = natsMsg_GetSubject(m);
  natsMsg_Destroy(m);
  if (stored != position || id.empty())
    return Status::corruption("JetStream stream " + impl_->stream + " has a foreign message at sequence " + std::to_string(position) +
                              " (subject " + subject + "): not an event relayed by leanos at that position");
  return id;
}

Status JetStreamLog::publish(std::span<const v1::Envelope> events) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->first_failure = Status::success();
  }
  std::string bytes;
  for (const auto& e : events) {
    if (e.position() != impl_->published + 1)
      return Status::invalid("event " + e.event_id() + " is at position " + std::to_string(e.position()) + ", but JetStream holds up to " +
                             std::to_string(impl_->published) + ": events are relayed in position order, without gaps");
    e.SerializeToString(&bytes);
    natsMsg* m = nullptr;
    const std::string subject = nats_subject(impl_->options.workspace, e.stream());
    natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, bytes.data(), static_cast<int>(bytes.size()));
    auto set = [&](const char* key, const std::string& value) {
      if (s == NATS_OK) s = natsMsgHeader_Set(m, key, value.c_str());
    };
    set("Nats-Msg-Id", e.event_id());
    if (e.position() > 1) set("Nats-Expected-Last-Sequence", std::to_string(e.position() - 1));
    set(kPosition, std::to_string(e.position()));
    set("Leanos-Stream", e.stream());
    set("Leanos-Type", e.type());  // the store fills it in for every event (check_storable)
    set("Leanos-Occurred-At", format_time(from_timestamp(e.occurred_at())));
    set("Leanos-Recorded-At", format_time(from_timestamp(e.recorded_at())));
    if (s == NATS_OK) s = js_PublishMsgAsync(impl_->js, &m, nullptr);
    natsMsg_Destroy(m);  // no effect once the library took it
    if (s != NATS_OK) return nats_error(s, static_cast<jsErrCode>(0), "publishing event " + e.event_id() + " to " + subject);
    impl_->published = e.position();
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = static_cast<int64_t>(impl_->options.timeout.count());
  const natsStatus s = js_PublishAsyncComplete(impl_->js, &po);
  std::lock_guard lock(impl_->mu);
  if (!impl_->first_failure.is_ok()) return impl_->first_failure;
  if (s != NATS_OK)
    return nats_error(s, static_cast<jsErrCode>(0),
                      "waiting for JetStream to acknowledge up to position " + std::to_string(impl_->published));
  return Status::success();
}

Status JetStreamLog::read(std::uint64_t from, const std::function<Status(v1::Envelope&&)>& f, std::uint64_t through) {
  std::uint64_t last = through;
  if (last == 0) {
    auto t = tail();
    if (!t) return t.status();
    last = t->position;
  }
  std::uint64_t expected = std::max<std::uint64_t>(from, 1);
  std::unordered_set<std::string> ids;
  // A consumer that times out is made again from the next position.
  return with_retries([&] { return expected > last ? Status::success() : read_some(expected, last, ids, f); });
}

Status JetStreamLog::read_some(std::uint64_t& expected, std::uint64_t last, std::unordered_set<std::string>& ids,
                               const std::function<Status(v1::Envelope&&)>& f) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = impl_->stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = expected;
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, impl_->js, impl_->subjects.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) return nats_error(s, code, "making a consumer of JetStream stream " + impl_->stream);
  Status result;
  for (; expected <= last && result.is_ok(); ++expected) {
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, static_cast<int64_t>(impl_->options.timeout.count()));
    if (s != NATS_OK) {
      result = nats_error(s, static_cast<jsErrCode>(0), "reading position " + std::to_string(expected) + " of " + impl_->stream);
      break;
    }
    jsMsgMetaData* meta = nullptr;
    std::uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
      seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    const std::string subject = natsMsg_GetSubject(m);
    v1::Envelope e;
    const bool parsed = e.ParseFromArray(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    const std::uint64_t position = parse_position(header(m, kPosition));
    const std::string id = header(m, "Nats-Msg-Id");
    natsMsg_Destroy(m);
    const std::string where = "JetStream stream " + impl_->stream + " sequence " + std::to_string(seq) + " (subject " + subject + ")";
    if (seq != expected)
      result = Status::corruption(where + " came where sequence " + std::to_string(expected) + " was expected");
    else if (!parsed || position != seq || e.position() != seq || id.empty() || id != e.event_id() ||
             subject != nats_subject(impl_->options.workspace, e.stream()))
      result = Status::corruption(where + " is a foreign message: not an event relayed by leanos at position " + std::to_string(seq) +
                                  " (its data, headers, position or subject do not agree)");
    else if (!ids.insert(id).second)
      result = Status::corruption(where + " repeats event id " + id + ": a log's ids are unique");
    else
      result = f(std::move(e));
    if (!result.is_ok()) break;  // `expected` stays at the position that failed
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return result;
}

}  // namespace leanos::store
