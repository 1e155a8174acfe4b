#include "actors/ledger_reader.h"

#include "actors/process_managers.h"

#include <algorithm>
#include <limits>
#include <set>
#include <span>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "events/domain.h"

namespace leanos {

bool damaged_snapshot(const Status& s) {
  if (s.code() != Code::corruption) return false;
  spdlog::warn("ledger: a projection snapshot is damaged ({}); folding from the log instead — `leanos verify` names it; "
               "check the disk",
               s.to_string());
  return true;
}

namespace {

constexpr Micros kNever = std::numeric_limits<Micros>::min();  // no lower bound on business time
constexpr Micros kAlways = std::numeric_limits<Micros>::max();  // no upper bound
// At most this many late events are read to tell whether a snapshot stays usable under them
// (each must be order-free): more, and an older snapshot is cheaper than reading them all.
constexpr std::size_t kOrderFreeRead = 4096;
// A range of the log longer than this is first checked for how much of it is late.
constexpr std::uint64_t kMostlyLateRange = 1024;

// Whether every one of `late` is order-free (none: yes; more than kOrderFreeRead: not read,
// no); each folded into `view` (if given) as it is read, a few at a time: file contents are
// large.
Result<bool> fold_order_free(const store::EventStore& store, const std::vector<store::EventStore::Late>& late, v1::LedgerView* view) {
  if (late.size() > kOrderFreeRead) return false;
  constexpr std::size_t kGroup = 64;
  for (std::size_t i = 0; i < late.size(); i += kGroup) {
    std::vector<std::uint64_t> positions;
    for (std::size_t j = i; j < std::min(late.size(), i + kGroup); ++j) positions.push_back(late[j].position);
    auto read = store.read_events(positions, store::Personal::leave_sealed);
    if (!read) return read.status();
    for (const auto& e : *read) {
      if (!projections::order_free(e)) return false;
      if (view) projections::apply(*view, e);
    }
  }
  return true;
}

}  // namespace

Status scan_business(const store::EventStore& store, std::uint64_t after, std::uint64_t last, Micros occurred_after,
                     Micros occurred_until, const std::function<bool(const v1::Envelope&)>& fn) {
  if (last <= after || occurred_until <= occurred_after) return Status::success();
  auto late = store.late_events(occurred_after, occurred_until, after, last);
  if (!late) return late.status();
  std::vector<std::uint64_t> late_positions;
  late_positions.reserve(late->size());
  for (const auto& l : *late) late_positions.push_back(l.position);
  std::sort(late_positions.begin(), late_positions.end());
  // The events in order: past the prefix that occurred by `occurred_after` and within the
  // one that occurred by `occurred_until`, every event that is not late is in range and in
  // business-time order.
  std::uint64_t from = after;
  if (occurred_after != kNever) {
    auto p = store.occurred_prefix(occurred_after);
    if (!p) return p.status();
    from = std::max(from, *p);
  }
  std::uint64_t to = last;
  if (occurred_until != kAlways) {
    auto p = store.occurred_prefix(occurred_until);
    if (!p) return p.status();
    to = std::min(to, *p);
  }
  // The late events are merged in business-time order, which is random in position: read
  // them first in position order (neighbours share the store's blocks), up to a bound; the
  // rest are read when their turn comes.
  // Like the scan, they are left sealed: the folds read no personal field.
  constexpr std::size_t kPrefetch = 1 << 17;
  std::unordered_map<std::uint64_t, v1::Envelope> prefetched;
  {
    auto read = store.read_events(std::span(late_positions).first(std::min(kPrefetch, late_positions.size())),
                                  store::Personal::leave_sealed);
    if (!read) return read.status();
    prefetched.reserve(read->size());
    for (auto& e : *read) prefetched.emplace(e.position(), std::move(e));
  }
  Status error;
  bool stopped = false;
  std::size_t next = 0;  // the next late event to merge in
  auto late_before = [&](Micros occurred, std::uint64_t position) {
    for (; next < late->size() && std::make_pair((*late)[next].occurred_at, (*late)[next].position) < std::make_pair(occurred, position); ++next) {
      const v1::Envelope* e = nullptr;
      Result<v1::Envelope> read = Status::not_found("not read");
      if (auto it = prefetched.find((*late)[next].position); it != prefetched.end()) {
        e = &it->second;
      } else {
        read = store.read_event((*late)[next].position, store::Personal::leave_sealed);
        if (!read) {
          error = read.status();
          return false;
        }
        e = &*read;
      }
      if (!fn(*e)) {
        stopped = true;
        return false;
      }
    }
    return true;
  };
  if (from < to) {
    auto in_order = [&](const v1::Envelope& e) {
      const Micros occurred = from_timestamp(e.occurred_at());
      if (occurred <= occurred_after || occurred > occurred_until) return true;
      if (std::binary_search(late_positions.begin(), late_positions.end(), e.position())) return true;
      if (!late_before(occurred, e.position())) return false;
      if (!fn(e)) {
        stopped = true;
        return false;
      }
      return true;
    };
    // Past the prefix, the events in order are the ones not late. When most of a long range
    // is late (a history imported after a file dated far ahead: everything after it is
    // backdated), those are read by position and the late ones never decoded here.
    std::vector<std::uint64_t> in_order_positions;
    bool by_position = false;
    if (to - from > kMostlyLateRange) {
      auto all_late = store.late_events(kNever, kAlways, from, to);
      if (!all_late) return all_late.status();
      if (all_late->size() * 2 > to - from) {
        by_position = true;
        std::vector<std::uint64_t> skip;
        skip.reserve(all_late->size());
        for (const auto& l : *all_late) skip.push_back(l.position);
        std::sort(skip.begin(), skip.end());
        for (std::uint64_t p = from + 1; p <= to; ++p)
          if (!std::binary_search(skip.begin(), skip.end(), p)) in_order_positions.push_back(p);
      }
    }
    if (by_position) {
      constexpr std::size_t kPage = 512;
      bool go = true;
      for (std::size_t i = 0; go && i < in_order_positions.size(); i += kPage) {
        auto read = store.read_events(std::span(in_order_positions).subspan(i, std::min(kPage, in_order_positions.size() - i)),
                                      store::Personal::leave_sealed);
        if (!read) return read.status();
        for (const auto& e : *read)
          if (!(go = in_order(e))) break;
      }
    } else {
      // A long range (a replay) decodes on a second thread while this one folds.
      const bool long_range = to - from > 8192;
      auto scan = long_range ? &store::EventStore::scan_pipelined : &store::EventStore::scan;
      // The ledger's folds read no personal field: they are left sealed, not decrypted.
      auto s = (store.*scan)(from + 1, to, in_order, store::Personal::leave_sealed);
      if (!s) return s;
    }
  }
  if (!error || stopped) return error;
  late_before(kAlways, std::numeric_limits<std::uint64_t>::max());
  return error;
}

Result<std::uint64_t> last_position_of(const store::EventStore& store, const AsOf& as_of) {
  std::uint64_t last = store.last_position();
  if (as_of.recorded) {
    auto p = store.recorded_prefix(*as_of.recorded);
    if (!p) return p.status();
    last = std::min(last, *p);
  }
  if (as_of.position) last = std::min(last, *as_of.position);
  return last;
}

Result<LedgerRead> read_ledger(store::EventStore& store, const AsOf& as_of, const LedgerOptions& given) {
  LedgerOptions options = given;
  const Branch* branch = given.branch;
  if (branch) options.write_snapshots = false;  // a branch's state is never kept
  // Nor is one that the store would not keep (opened to read, or locked): serializing them
  // took a query whose tail spans many snapshot intervals a tenth of its time or more.
  if (store.read_only() || !store.locked_reason().empty()) options.write_snapshots = false;
  auto bound = last_position_of(store, as_of);
  if (!bound) return bound.status();
  const std::uint64_t last = *bound;
  const Micros until = as_of.occurred.value_or(kAlways);

  const char* name = options.need_deals ? projections::kLedgerSnapshotName : projections::kCoreSnapshotName;
  const char* time_name = options.need_deals ? projections::kLedgerTimeSnapshotName : projections::kCoreTimeSnapshotName;
  LedgerRead out{projections::empty_ledger(), 0, 0};
  std::size_t snapshot_bytes = 0;  // of the snapshot the fold started from
  Micros after = kNever;           // the fold's tail: events that occurred after this
  // With everything known (no --known-at, no --at-position), a snapshot keyed by business
  // time C holds every event that occurred by C as known at its position s. It is usable for
  // any date from C on while nothing recorded after s occurred by C: the tail is then every
  // event that occurred after C. Late events recorded long after their date (imports,
  // learnings typed weeks later) leave these valid, where a position snapshot would not be.
  const bool latest_knowledge = !as_of.recorded && !as_of.position;
  std::uint64_t since_late_order_free = 0;  // folded on top of the snapshot: they count toward the next one
  Micros key = std::min<Micros>(until, kEndOfTime);
  if (branch) key = std::min(key, branch->changes_from - 1);  // what occurred before anything differs
  for (int tries = 0; options.use_snapshots && latest_knowledge && tries < 4 && key >= 0; ++tries) {
    auto snap = store.snapshot_at_or_before(time_name, static_cast<std::uint64_t>(key));
    if (!snap && damaged_snapshot(snap.status())) break;
    if (!snap) return snap.status();
    v1::LedgerView view;
    if (!*snap || !projections::parse((*snap)->second, &view)) break;
    const auto at = static_cast<Micros>((*snap)->first);
    const std::uint64_t known = view.known_through();
    view.clear_known_through();
    if (known > last) break;
    // Nothing recorded since it was written, or nothing since that occurred by its key but
    // events whose fold needs no order (documents, files, imports: folded on top of it here).
    bool usable = known == last;
    if (!usable) {
      auto recorded_since = store.late_events(kNever, at, known, last);
      if (!recorded_since) return recorded_since.status();
      auto folded = fold_order_free(store, *recorded_since, &view);
      if (!folded) return folded.status();
      usable = *folded;
      if (usable) since_late_order_free = recorded_since->size();
    }
    if (usable) {
      out.folded += since_late_order_free;
      out.view = std::move(view);
      out.snapshot_position = known;
      snapshot_bytes = (*snap)->second.size();
      out.time_snapshot = true;
      after = at;
      break;
    }
    key = at - 1;  // an older one may hold
  }
  // Otherwise a position snapshot: at most the prefix that occurred by `until`, and none that
  // a late event of the tail precedes in business time.
  std::uint64_t candidate = after == kNever ? last : 0;
  if ((as_of.occurred || branch) && candidate) {
    auto p = store.occurred_prefix(branch ? std::min(until, branch->changes_from - 1) : until);
    if (!p) return p.status();
    candidate = std::min(candidate, *p);
  }
  while (options.use_snapshots && candidate > 0) {
    auto snap = store.snapshot_at_or_before(name, candidate);
    if (!snap && damaged_snapshot(snap.status())) break;
    if (!snap) return snap.status();
    v1::LedgerView view;
    if (!*snap || !projections::parse((*snap)->second, &view)) break;
    const std::uint64_t at = (*snap)->first;
    auto before = store.late_events(kNever, view.max_occurred_at() - 1, at, last);
    if (!before) return before.status();
    // The tail merges late events in: those whose fold needs no order may precede it.
    auto usable = fold_order_free(store, *before, nullptr);
    if (!usable) return usable.status();
    if (*usable) {
      out.view = std::move(view);
      out.snapshot_position = at;
      snapshot_bytes = (*snap)->second.size();
      break;
    }
    // The earliest such event: start from a snapshot that does not pass its business time.
    auto p = store.occurred_prefix(before->front().occurred_at);
    if (!p) return p.status();
    candidate = std::min(at - 1, *p);
  }
  const std::uint64_t base = out.snapshot_position;
  const Micros base_time = after == kNever ? kAlways : after;  // a snapshot keyed by time holds events to then
  // Without deals in the snapshot, a deal the tail touches is rebuilt from its own events up
  // to the snapshot first, so that the fold's deltas start from its state then.
  auto ensure_deal = [&](const v1::Envelope& e) -> Status {
    // A deal's lead is its first event, in the log and in business time (the rules refuse
    // anything of a deal before it): a deal opened in the tail has nothing before it. A
    // corrected lead is not an opening: its deal has the rest of its thread.
    if (options.need_deals || base == 0 || (e.has_lead_captured() && e.corrects_event_id().empty())) return Status::success();
    const std::string id = deal_id_of(e);
    if (id.empty() || out.view.deals().count(id)) return Status::success();
    auto events = store.read_stream(deal_stream(id), 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
    if (!events) return events.status();
    std::vector<v1::Envelope> before;
    for (auto& x : *events)
      if (x.position() <= base && from_timestamp(x.occurred_at()) <= base_time) before.push_back(std::move(x));
    if (!before.empty()) (*out.view.mutable_deals())[id] = projections::rebuild_deal(before);
    return Status::success();
  };
  Status error;
  // Writing core snapshots, keep the ids of the deals in play as the fold goes.
  const bool core_snapshots = options.write_snapshots && options.core_snapshot_every;
  std::set<std::string> in_play;
  if (core_snapshots) in_play = projections::deals_in_play(out.view);
  // Full snapshots hold every deal ever, so they grow with history: the next one waits until
  // the fold has gone one event per kFullBytesPerEvent bytes of the last. What they write
  // in total then stays near the log's own size (at 10 M events one is 318 MB; every
  // 100 000 events that would be 16 GB), and a query's tail stays proportionate to the state.
  constexpr std::size_t kFullBytesPerEvent = 100;
  std::uint64_t last_full = options.need_deals ? base : 0;
  std::size_t last_full_bytes = options.need_deals ? snapshot_bytes : 0;
  // Time snapshots: while folding everything known, one per core_snapshot_every events (full
  // ones as spaced as position snapshots), keyed just before the next event's date.
  std::uint64_t since_time_core = since_late_order_free, since_time_full = since_late_order_free;
  std::size_t last_time_full_bytes = options.need_deals ? snapshot_bytes : 0;
  Micros folded_through = after;
  auto time_snapshot = [&](const v1::Envelope& next) -> Status {
    const Micros at = from_timestamp(next.occurred_at());
    if (!latest_knowledge || !options.write_snapshots || at <= folded_through || folded_through == kNever) return Status::success();
    const bool core = options.core_snapshot_every && since_time_core >= options.core_snapshot_every;
    const bool full = options.need_deals && options.snapshot_every && since_time_full >= options.snapshot_every &&
                      since_time_full >= last_time_full_bytes / kFullBytesPerEvent;
    if (!core && !full) return Status::success();
    v1::LedgerView known;
    known.set_known_through(last);
    const std::string suffix = projections::serialize(known);  // parsed after the state, it sets the field
    const auto key = static_cast<std::uint64_t>(at - 1);  // every event up to then is folded
    if (core) {
      since_time_core = 0;
      if (auto s = store.put_snapshot(projections::kCoreTimeSnapshotName, key, projections::serialize_core(out.view, in_play) + suffix); !s)
        return s;
    }
    if (full) {
      since_time_full = 0;
      const std::string bytes = projections::serialize(out.view);
      last_time_full_bytes = bytes.size();
      if (auto s = store.put_snapshot(projections::kLedgerTimeSnapshotName, key, bytes + suffix); !s) return s;
    }
    return Status::success();
  };
  auto fold = [&](const v1::Envelope& e) -> bool {
    if (error = ensure_deal(e); !error) return false;
    if (error = time_snapshot(e); !error) return false;
    projections::apply(out.view, e);
    ++out.folded;
    ++since_time_core;
    ++since_time_full;
    folded_through = std::max(folded_through, from_timestamp(e.occurred_at()));
    if (!options.write_snapshots) return true;
    const auto pos = e.position();
    if (core_snapshots)
      if (const std::string id = deal_id_of(e); !id.empty()) {
        auto d = out.view.deals().find(id);
        if (d != out.view.deals().end() && projections::in_play(d->second)) in_play.insert(id);
        else in_play.erase(id);
      }
    // A snapshot at `pos` must hold exactly the log up to it: every position up to `pos`
    // folded, none after (a late event merged in early would be one).
    if (out.view.position() != pos || out.view.events() != pos) return true;
    if (core_snapshots && pos % options.core_snapshot_every == 0)
      if (error = store.put_snapshot(projections::kCoreSnapshotName, pos, projections::serialize_core(out.view, in_play)); !error)
        return false;
    if (options.need_deals && options.snapshot_every && pos % options.snapshot_every == 0 &&
        pos - last_full >= last_full_bytes / kFullBytesPerEvent) {
      const std::string bytes = projections::serialize(out.view);
      if (error = store.put_snapshot(projections::kLedgerSnapshotName, pos, bytes); !error) return false;
      last_full = pos;
      last_full_bytes = bytes.size();
    }
    return true;
  };
  // A branch's own events go in before the first of the log's that comes after them.
  std::size_t next_extra = 0;
  auto extras_before = [&](const v1::Envelope* e) -> bool {
    if (!branch) return true;
    for (; next_extra < branch->extra.size(); ++next_extra) {
      const auto& x = branch->extra[next_extra];
      const Micros t = from_timestamp(x.occurred_at());
      if (t > until) return true;
      if (e && std::make_pair(t, x.position()) > std::make_pair(from_timestamp(e->occurred_at()), e->position())) return true;
      if (t <= after && after != kNever) continue;  // folded in the snapshot already (never: changes_from is after it)
      if (!fold(x)) return false;
      // What the process managers derive from it (a case study a validated learning flags),
      // as they would had it been recorded: derived from the branch's state with it folded.
      for (auto& d : derive(out.view, x)) {
        d.event.set_stream(d.stream);
        d.event.set_position(x.position());
        *d.event.mutable_recorded_at() = x.recorded_at();
        if (!fold(d.event)) return false;
      }
    }
    return true;
  };
  auto s = scan_business(store, after == kNever ? base : 0, last, after, until, [&](const v1::Envelope& e) {
    if (!extras_before(&e)) return false;
    if (branch && !branch->keep(e)) return true;
    return fold(e);
  });
  if (!s) return s;
  if (!error) return error;
  if (!extras_before(nullptr)) return error;
  return out;
}

}  // namespace leanos
