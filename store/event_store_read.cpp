// Reads: a stream, the log by position or recording time, the late index, and the scans
// (plain and pipelined) that folds are built on.
#include "store/event_store_impl.h"

#include <algorithm>
#include <limits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace leanos::store {

Result<std::vector<Envelope>> EventStore::read_stream(const std::string& stream, std::uint64_t from_version,
                                                      Direction direction, std::size_t limit, std::size_t max_bytes) const {
  if (auto s = check_stream_name(stream); !s) return s;
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->streams));
  const std::string prefix = name_prefix(stream);
  std::vector<std::uint64_t> positions;
  auto in_stream = [&] {
    if (!it->Valid()) return false;
    auto k = it->key().ToStringView();
    return k.size() == prefix.size() + 8 && k.substr(0, prefix.size()) == prefix;
  };
  if (direction == Direction::forward) {
    for (it->Seek(named_key(stream, from_version)); in_stream() && positions.size() < limit; it->Next()) {
      auto pos = decode_be64(it->value().ToStringView());
      if (!pos) return Status::corruption("stream index entry of '" + stream + "' is not a position");
      positions.push_back(*pos);
    }
  } else {
    const std::uint64_t from = from_version == 0 ? std::numeric_limits<std::uint64_t>::max() : from_version;
    for (it->SeekForPrev(named_key(stream, from)); in_stream() && positions.size() < limit; it->Prev()) {
      auto pos = decode_be64(it->value().ToStringView());
      if (!pos) return Status::corruption("stream index entry of '" + stream + "' is not a position");
      positions.push_back(*pos);
    }
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading stream " + stream);
  return impl_->load_many(positions, view.options(), max_bytes);
}

Status EventStore::scan(std::uint64_t from, std::uint64_t to,
                        const std::function<bool(const Envelope&)>& fn, Personal personal) const {
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->events));
  Envelope e;
  for (it->Seek(be64(std::max<std::uint64_t>(from, 1))); it->Valid(); it->Next()) {
    auto pos = decode_be64(it->key().ToStringView());
    if (!pos) return Status::corruption("a key of the event log is not a position");
    if (*pos > to) break;
    const auto value = it->value();
    if (auto s = decode_event(*impl_->vault, value.data(), value.size(), *pos, e, personal); !s) return s;
    if (!fn(e)) break;
  }
  return from_rocks(it->status(), "reading the event log");
}

Status EventStore::scan_pipelined(std::uint64_t from, std::uint64_t to,
                                  const std::function<bool(const Envelope&)>& fn, Personal personal) const {
  constexpr std::size_t kPage = 512, kPages = 4;
  // A page of events, decoded into its own arena (whose first block is the page's, so that
  // a reset frees nothing but long strings) by the reader, or handed over as raw records
  // for the caller's thread to decode: the reader decodes only while the caller has pages
  // waiting, so the decoding work flows to whichever thread has time for it.
  struct Page {
    std::vector<char> block = std::vector<char>(1 << 20);
    google::protobuf::Arena arena{[this] {
      google::protobuf::ArenaOptions o;
      o.initial_block = block.data();
      o.initial_block_size = block.size();
      return o;
    }()};
    std::vector<Envelope*> events;
    bool raw = false;
    std::string bytes;                                       // raw: the records, back to back
    std::vector<std::pair<std::uint64_t, std::size_t>> ends;  // raw: (position, end offset)

    Status decode(const Vault& vault, const char* data, std::size_t size, std::uint64_t position, Personal personal) {
      auto* e = google::protobuf::Arena::CreateMessage<Envelope>(&arena);
      if (auto s = decode_event(vault, data, size, position, *e, personal); !s) return s;
      events.push_back(e);
      return Status::success();
    }
    void clear() {
      events.clear();
      bytes.clear();
      ends.clear();
      arena.Reset();
    }
  };
  std::vector<std::unique_ptr<Page>> pages;
  for (std::size_t i = 0; i < kPages; ++i) pages.push_back(std::make_unique<Page>());
  std::mutex mu;
  std::condition_variable changed;
  std::deque<Page*> free_pages, full_pages;
  for (auto& p : pages) free_pages.push_back(p.get());
  bool reader_done = false, consumer_done = false;
  Status read_status;

  std::thread reader([&] {
    ReadView view(impl_->db.get());
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.long_scan(), impl_->events));
    Page* page = nullptr;
    auto hand_over = [&] {
      std::lock_guard lock(mu);
      full_pages.push_back(page);
      page = nullptr;
      changed.notify_all();
    };
    for (it->Seek(be64(std::max<std::uint64_t>(from, 1))); it->Valid(); it->Next()) {
      auto pos = decode_be64(it->key().ToStringView());
      if (!pos) {
        read_status = Status::corruption("a key of the event log is not a position");
        break;
      }
      if (*pos > to) break;
      if (page == nullptr) {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] { return consumer_done || !free_pages.empty(); });
        if (consumer_done) break;
        page = free_pages.front();
        free_pages.pop_front();
        const bool caller_busy = full_pages.size() > 1;  // beyond the page just handed over
        lock.unlock();
        page->clear();  // every allocation and free of the arena's strings on this thread
        page->raw = !caller_busy;
      }
      const auto value = it->value();
      if (page->raw) {
        page->bytes.append(value.data(), value.size());
        page->ends.emplace_back(*pos, page->bytes.size());
        if (page->ends.size() == kPage) hand_over();
        continue;
      }
      if (auto s = page->decode(*impl_->vault, value.data(), value.size(), *pos, personal); !s) {
        read_status = s;
        break;
      }
      if (page->events.size() == kPage) hand_over();
    }
    if (read_status.is_ok()) read_status = from_rocks(it->status(), "reading the event log");
    if (page != nullptr) hand_over();
    std::lock_guard lock(mu);
    reader_done = true;
    changed.notify_all();
  });

  bool stopped = false;
  Status decode_status;
  for (;;) {
    Page* page = nullptr;
    {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return reader_done || !full_pages.empty(); });
      if (full_pages.empty()) break;
      page = full_pages.front();
      full_pages.pop_front();
    }
    if (page->raw) {
      std::size_t begin = 0;
      for (const auto& [position, end] : page->ends) {
        decode_status = page->decode(*impl_->vault, page->bytes.data() + begin, end - begin, position, personal);
        begin = end;
        if (!decode_status) {
          stopped = true;
          break;
        }
        if (!fn(*page->events.back())) {
          stopped = true;
          break;
        }
      }
    } else {
      for (const auto* e : page->events)
        if (!fn(*e)) {
          stopped = true;
          break;
        }
    }
    std::lock_guard lock(mu);
    free_pages.push_back(page);
    if (stopped) consumer_done = true;
    changed.notify_all();
    if (stopped) break;
  }
  reader.join();
  // A corrupt record stops the scan there: the events before it were folded, as with scan().
  if (!decode_status.is_ok()) return decode_status;
  return read_status;
}

Result<std::vector<Envelope>> EventStore::read_all(std::uint64_t from_position, std::size_t limit,
                                                   std::size_t max_bytes, Personal personal) const {
  std::vector<Envelope> out;
  if (limit == 0) return out;
  std::size_t bytes = 0;
  auto s = scan(from_position, std::numeric_limits<std::uint64_t>::max(), [&](const Envelope& e) {
    const std::size_t size = e.ByteSizeLong();
    if (!out.empty() && bytes + size > max_bytes) return false;
    bytes += size;
    out.push_back(e);
    return out.size() < limit;
  }, personal);
  if (!s) return s;
  return out;
}

namespace {

// The top-level fields of a stored record that a reader routes on, read with protobuf's
// wire-format reader and every other field skipped (a payload is one length-delimited field):
// false when the record is not a well-formed message.
struct RecordHead {
  std::uint64_t position = 0;
  std::string_view stream, type;
  bool sealed = false;
};
bool read_head(std::string_view record, RecordHead& head) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(record.data()), static_cast<int>(record.size()));
  auto text = [&](std::string_view& out) {
    std::uint32_t size = 0;
    if (!in.ReadVarint32(&size)) return false;
    const auto at = static_cast<std::size_t>(in.CurrentPosition());
    if (!in.Skip(static_cast<int>(size))) return false;
    out = record.substr(at, size);
    return true;
  };
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage() && static_cast<std::size_t>(in.CurrentPosition()) == record.size();
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const auto wire = WireFormatLite::GetTagWireType(tag);
    bool ok = true;
    if (field == Envelope::kPositionFieldNumber && wire == WireFormatLite::WIRETYPE_VARINT) {
      ok = in.ReadVarint64(&head.position);
    } else if (field == Envelope::kStreamFieldNumber && wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      ok = text(head.stream);
    } else if (field == Envelope::kTypeFieldNumber && wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      ok = text(head.type);
    } else {
      if (field == Envelope::kSealedFieldNumber) head.sealed = true;
      ok = WireFormatLite::SkipField(&in, tag);
    }
    if (!ok) return false;
  }
}

}  // namespace

Result<std::vector<EventStore::Record>> EventStore::read_records(std::uint64_t from_position, std::size_t limit,
                                                                 std::size_t max_bytes, Personal personal) const {
  std::vector<Record> out;
  if (limit == 0) return out;
  std::size_t bytes = 0;
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->events));
  Envelope e;
  for (it->Seek(be64(std::max<std::uint64_t>(from_position, 1))); it->Valid() && out.size() < limit; it->Next()) {
    auto pos = decode_be64(it->key().ToStringView());
    if (!pos) return Status::corruption("a key of the event log is not a position");
    const std::string_view value = it->value().ToStringView();
    RecordHead head;
    if (!read_head(value, head) || head.position != *pos || !valid_utf8(head.stream) || !valid_utf8(head.type))
      return undecodable(*pos);
    Record r{*pos, std::string(head.stream), std::string(head.type), {}};
    if (head.sealed && personal == Personal::open) {
      if (auto s = decode_event(*impl_->vault, value.data(), value.size(), *pos, e, personal); !s) return s;
      r.bytes = e.SerializeAsString();
    } else {
      r.bytes.assign(value);
    }
    if (!out.empty() && bytes + r.bytes.size() > max_bytes) break;
    bytes += r.bytes.size();
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the event log");
  return out;
}

Result<std::vector<Envelope>> EventStore::read_recorded_between(Micros from, Micros to, std::size_t limit) const {
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->time));
  std::vector<std::uint64_t> positions;
  for (it->Seek(time_key(static_cast<std::uint64_t>(std::max<Micros>(from, 0)), 0));
       it->Valid() && positions.size() < limit; it->Next()) {
    auto k = it->key().ToStringView();
    auto last = decode_be64(it->value().ToStringView());
    if (k.size() != 16 || !last) return Status::corruption("a time index entry is malformed");
    if (static_cast<Micros>(get_be64(k)) > to) break;
    for (std::uint64_t p = get_be64(k.substr(8)); p <= *last && positions.size() < limit; ++p) positions.push_back(p);
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the time index");
  return impl_->load_many(positions, view.options());
}

Result<std::uint64_t> EventStore::occurred_prefix(Micros t) const {
  // The first event that raised the running max past t ends the prefix (no time is past the
  // last one: the whole log).
  if (t == std::numeric_limits<Micros>::max()) return last_position();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->occurred));
  const auto bound = static_cast<std::uint64_t>(std::max<Micros>(t, -1) + 1);
  it->Seek(time_key(bound, 0));
  if (!it->status().ok()) return from_rocks(it->status(), "reading the occurred index");
  if (!it->Valid()) return last_position();
  if (it->key().size() != 16) return Status::corruption("an occurred index key is not 16 bytes");
  return get_be64(it->key().ToStringView().substr(8)) - 1;
}

Result<std::vector<EventStore::Late>> EventStore::late_events(Micros occurred_after, Micros occurred_until, std::uint64_t after,
                                                             std::uint64_t last) const {
  std::vector<Late> out;
  if (occurred_until < 0 || occurred_until <= occurred_after || last <= after) return out;
  // Two indexes hold the late events: by business time and by position. A query bounds
  // both, and either side may be the narrow one (a week of business time over the whole
  // log; or every late event before a date, recorded since a snapshot). Both are walked a
  // step at a time and the first to reach its end answers: the cost is twice the smaller.
  const std::string position_end = be64(last + 1);
  const rocksdb::Slice position_bound(position_end);
  rocksdb::ReadOptions up_to_last;
  up_to_last.iterate_upper_bound = &position_bound;
  std::unique_ptr<rocksdb::Iterator> by_time(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->late));
  std::unique_ptr<rocksdb::Iterator> by_position(impl_->db->NewIterator(up_to_last, impl_->late_positions));
  by_time->Seek(time_key(static_cast<std::uint64_t>(std::max<Micros>(occurred_after, -1) + 1), 0));
  by_position->Seek(be64(after + 1));
  std::vector<Late> from_time, from_position;
  for (;;) {
    if (!by_time->Valid()) break;
    const auto k = by_time->key().ToStringView();
    if (k.size() != 16) return Status::corruption("a late index key is not 16 bytes");
    const auto occurred = static_cast<Micros>(get_be64(k));
    if (occurred > occurred_until) break;
    if (const auto pos = get_be64(k.substr(8)); pos > after && pos <= last) from_time.push_back({occurred, pos});
    by_time->Next();

    if (!by_position->Valid()) {
      if (!by_position->status().ok()) return from_rocks(by_position->status(), "reading the late index by position");
      std::sort(from_position.begin(), from_position.end(), [](const Late& a, const Late& b) {
        return std::make_pair(a.occurred_at, a.position) < std::make_pair(b.occurred_at, b.position);
      });
      return from_position;
    }
    const auto p = by_position->key().ToStringView();
    const auto v = by_position->value().ToStringView();
    if (p.size() != 8 || v.size() != 8) return Status::corruption("a late index entry by position is not 8 + 8 bytes");
    if (const auto occurred_p = static_cast<Micros>(get_be64(v)); occurred_p > occurred_after && occurred_p <= occurred_until)
      from_position.push_back({occurred_p, get_be64(p)});
    by_position->Next();
  }
  if (!by_time->status().ok()) return from_rocks(by_time->status(), "reading the late index");
  return from_time;  // keys sort by (occurred_at, position)
}

Result<std::uint64_t> EventStore::recorded_prefix(Micros t) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->time));
  it->Seek(time_key(static_cast<std::uint64_t>(std::max<Micros>(t, -1) + 1), 0));
  if (!it->status().ok()) return from_rocks(it->status(), "reading the time index");
  if (!it->Valid()) return last_position();
  if (it->key().size() != 16) return Status::corruption("a time index key is not 16 bytes");
  return get_be64(it->key().ToStringView().substr(8)) - 1;
}

Result<Envelope> EventStore::read_event(std::uint64_t position, Personal personal) const { return impl_->load(position, {}, personal); }

Result<std::vector<Envelope>> EventStore::read_events(std::span<const std::uint64_t> positions, Personal personal) const {
  ReadView view(impl_->db.get());
  return impl_->load_many(positions, view.options(), SIZE_MAX, personal);
}

Result<std::optional<std::uint64_t>> EventStore::find_event_id(const std::string& event_id) const {
  return impl_->position_of_id(event_id);
}

}  // namespace leanos::store
