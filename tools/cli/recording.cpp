#include "tools/cli/recording.h"

#include <cstdio>

#include "events/ids.h"
#include "events/time.h"
#include "store/event_store.h"
#include "tools/cli/views.h"

namespace leanos::cli {

void add_encoding(CLI::App* sub, Recorded& r) {
  sub->add_option("--encoding", r.encoding,
                  "the file's text encoding (default utf-8; e.g. latin1, windows-1252, utf-16): transcoded to UTF-8");
}

void add_recorded(CLI::App* sub, Recorded& r) {
  sub->add_option("--at", r.at, "when it happened (ISO-8601 date or date-time, UTC); default now");
  sub->add_option("--id", r.id, "event id; a retry with the same id records nothing new");
}

void add_corrects(CLI::App* sub, Recorded& r) {
  sub->add_option("--corrects", r.corrects,
                  "EVENT_ID: this fact, stated whole, replaces the recorded one (the one in force: `leanos audit DEAL` shows ids), "
                  "dated where it stands; the audit keeps both");
}

Result<Envelope> command_of(const GlobalOptions& g, const google::protobuf::Message& payload, const Recorded& r) {
  if (!r.corrects.empty() && !r.at.empty())
    return Status::invalid("--at with --corrects: a correction is dated where the fact it replaces stands; leave --at out");
  const Micros now = now_micros();
  Micros at = now;
  if (!r.at.empty()) {
    auto t = parse_time(r.at);
    if (!t) return Status(t.status().code(), "--at: " + t.status().message());
    at = *t;
    // A fact is recorded once it has happened (the store refuses it too, in its own words).
    if (!g.capture && at > now + store::StoreOptions{}.max_occurred_ahead_micros)
      return Status::invalid("--at " + r.at + " is in the future (it is " + format_time(now) +
                             "): a fact is recorded once it has happened; give a date up to now");
  }
  Envelope c = make_event(payload, at);
  c.set_event_id(r.id.empty() ? new_event_id() : r.id);
  c.set_actor(actor_or_default(g));
  c.set_corrects_event_id(r.corrects);
  return c;
}

namespace {

void print_handled(const GlobalOptions& g, const Handled& h) {
  if (g.json) {
    nlohmann::json j;
    j["stream"] = h.stream;
    j["idempotent_retry"] = h.idempotent_retry;
    j["events"] = nlohmann::json::array();
    for (const auto& e : h.events) j["events"].push_back(proto_json(e));
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  for (const auto& e : h.events)
    std::printf("%s %s in %s at position %llu\n", h.idempotent_retry ? "already recorded:" : "recorded", e.type().c_str(),
                (e.stream().empty() ? h.stream : e.stream()).c_str(), static_cast<unsigned long long>(e.position()));
}

}  // namespace

int submit_all(const GlobalOptions& g, const std::vector<Envelope>& commands) {
  if (g.capture) {
    g.capture->insert(g.capture->end(), commands.begin(), commands.end());
    return 0;
  }
  auto ledger = open_ledger(g, Access::record);
  if (!ledger) return fail(ledger.status());
  for (const auto& c : commands) {
    auto h = (*ledger)->submit({c});
    if (!h) return fail(h.status());
    print_handled(g, *h);
  }
  return 0;
}

int submit(const GlobalOptions& g, const google::protobuf::Message& payload, const Recorded& r) {
  auto c = command_of(g, payload, r);
  if (!c) return fail(c.status());
  return submit_all(g, {*c});
}

int record_csv(const GlobalOptions& g, const std::string& path, const Recorded& r, std::size_t columns,
               const std::vector<std::string>& names, const std::function<RowPayload(const CsvRow&, const std::string&)>& build) {
  auto text = read_text_file(path, r.encoding);
  if (!text) return fail(text.status());
  auto rows = parse_csv(*text);
  if (!rows) return fail(Status::invalid(path + ": " + rows.status().message()));
  if (rows->empty()) return fail(Status::invalid(path + " is empty; expected a header and one row per record"));
  std::vector<Envelope> commands;
  std::string header;
  for (const auto& n : names) header += (header.empty() ? "" : ",") + n;
  for (std::size_t i = 1; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    if (row.cells.size() != columns)
      return fail(Status::invalid(path + " line " + std::to_string(row.line) + ": " + std::to_string(row.cells.size()) +
                                  " columns, expected " + std::to_string(columns) + " (" + header + "); nothing recorded"));
    for (std::size_t col = 0; col < columns; ++col)
      if (names[col].find("(optional)") == std::string::npos && row.cells[col].find_first_not_of(' ') == std::string::npos)
        return fail(Status::invalid(path + " line " + std::to_string(row.line) + ", column " + std::to_string(col + 1) + " (" +
                                    names[col] + "): empty; nothing recorded"));
    auto payload = build(row, path);
    if (!payload) return fail(payload.status());
    Recorded each = r;
    each.id = r.id.empty() ? "" : r.id + "-" + std::to_string(i);
    auto c = command_of(g, **payload, each);
    if (!c) return fail(c.status());
    if (r.id.empty()) c->set_event_id(derived_event_id(path + ":" + std::to_string(i), to_json(**payload)));
    commands.push_back(std::move(*c));
  }
  if (commands.empty()) return fail(Status::invalid(path + " has a header but no rows"));
  if (g.capture) {
    g.capture->insert(g.capture->end(), commands.begin(), commands.end());
    return 0;
  }
  // One batch through the campaign's actor (or the server's): every row is decided against
  // the campaign first, so a bad row leaves nothing recorded.
  auto ledger = open_ledger(g, Access::record);
  if (!ledger) return fail(ledger.status());
  auto h = (*ledger)->submit(std::move(commands));
  if (!h) return fail(h.status());
  if (g.json)
    std::printf("{\"stream\":\"%s\",\"recorded\":%zu,\"idempotent_retry\":%s}\n", h->stream.c_str(), h->events.size(),
                h->idempotent_retry ? "true" : "false");
  else
    std::printf("%s %zu %s in %s\n", h->idempotent_retry ? "already recorded:" : "recorded", h->events.size(),
                h->events.front().type().c_str(), h->stream.c_str());
  return 0;
}

}  // namespace leanos::cli
