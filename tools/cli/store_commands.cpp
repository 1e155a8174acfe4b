// Store-level commands: append (generic events), log, verify, backup.
#include <google/protobuf/struct.pb.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "events/domain.h"
#include "events/ids.h"
#include "events/text.h"
#include "events/time.h"
#include "tools/cli/cli.h"

namespace leanos::cli {

namespace {

void print_event_line(const store::Envelope& e) {
  std::printf("%8llu  %s  %s@%llu  %s", static_cast<unsigned long long>(e.position()),
              format_time(from_timestamp(e.occurred_at())).c_str(), e.stream().c_str(),
              static_cast<unsigned long long>(e.version()), e.type().c_str());
  if (!e.actor().empty()) std::printf("  by %s", e.actor().c_str());
  std::printf("\n");
}

struct AppendArgs {
  std::string stream;
  std::string type;
  std::string payload;
  std::string file;
  std::string expected = "any";
  std::string id;
  std::string at;
  std::string causation;
  std::string correlation;
};

// Reads envelopes from a file: one JSON object per line, or a JSON array of them.
Result<std::vector<store::Envelope>> read_envelopes(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.status();
  std::istringstream in(*text);
  std::vector<store::Envelope> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    store::Envelope e;
    if (auto s = from_json(line, &e, path + " line " + std::to_string(n)); !s) return s;
    out.push_back(std::move(e));
  }
  if (out.empty()) return Status::invalid(path + " holds no events; expected one JSON envelope per line");
  return out;
}

int run_append(const GlobalOptions& global, const AppendArgs& a) {
  auto expected = store::ExpectedVersion::parse(a.expected);
  if (!expected) return fail(expected.status());
  if (auto s = check_stream_name(a.stream); !s) return fail(s);

  std::vector<store::Envelope> events;
  if (!a.file.empty()) {
    auto read = read_envelopes(a.file);
    if (!read) return fail(read.status());
    events = std::move(*read);
  } else {
    if (a.type.empty()) return fail(Status::invalid("--type is required (e.g. --type NoteTaken) unless --file is given"));
    store::Envelope e;
    e.set_type(a.type);
    e.set_event_id(a.id.empty() ? new_event_id() : a.id);
    if (!a.payload.empty()) {
      if (auto s = from_json(a.payload, e.mutable_generic()->mutable_body(), "--payload"); !s) return fail(s);
    } else {
      e.mutable_generic();
    }
    events.push_back(std::move(e));
  }
  Micros at = 0;
  if (!a.at.empty()) {
    auto t = parse_time(a.at);
    if (!t) return fail(t.status());
    at = *t;
  }
  for (auto& e : events) {
    if (auto s = check_raw_append(a.stream, e); !s) return fail(s);
    if (at != 0) to_timestamp(at, e.mutable_occurred_at());
    if (e.actor().empty()) e.set_actor(actor_or_default(global));
    if (!a.causation.empty()) e.set_causation_id(a.causation);
    if (!a.correlation.empty()) e.set_correlation_id(a.correlation);
  }

  auto ledger = open_ledger(global, Access::record);
  if (!ledger) return fail(ledger.status());
  auto r = (*ledger)->append(a.stream, a.expected, std::move(events));
  if (!r) return fail(r.status());
  if (global.json) {
    std::printf("{\"stream\":\"%s\",\"positions\":[", a.stream.c_str());
    for (std::size_t i = 0; i < r->positions.size(); ++i)
      std::printf("%s%llu", i ? "," : "", static_cast<unsigned long long>(r->positions[i]));
    std::printf("],\"stream_version\":%llu,\"idempotent_retry\":%s}\n",
                static_cast<unsigned long long>(r->stream_version), r->idempotent_retry ? "true" : "false");
  } else {
    std::printf("%s %zu event(s) to %s at position %llu..%llu (stream version %llu)\n",
                r->idempotent_retry ? "already stored:" : "appended", r->positions.size(), a.stream.c_str(),
                static_cast<unsigned long long>(r->positions.front()),
                static_cast<unsigned long long>(r->positions.back()),
                static_cast<unsigned long long>(r->stream_version));
  }
  return 0;
}

struct LogArgs {
  std::string stream;
  std::uint64_t from = 0;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  bool backward = false;
  std::string recorded_from, recorded_to;
};

int run_log(const GlobalOptions& global, const LogArgs& a) {
  if (a.backward && a.stream.empty())
    return fail(Status::invalid("--backward reads one stream newest first; give the stream with --stream S"));
  const bool by_recorded = !a.recorded_from.empty() || !a.recorded_to.empty();
  if (by_recorded && !a.stream.empty())
    return fail(Status::invalid("--recorded-from/--recorded-to read the whole log; leave out --stream"));
  ReadRequest request;
  request.stream = a.stream;
  request.from = a.stream.empty() || !a.backward ? std::max<std::uint64_t>(a.from, 1) : a.from;
  request.backward = a.backward;
  request.limit = a.limit;
  if (by_recorded) {
    if (!global.server.empty())
      return fail(Status::invalid("--recorded-from/--recorded-to need the data folder; without --server, on the "
                                  "server's machine while it is stopped, or on a `leanos backup` copy"));
    if (!a.recorded_from.empty()) {
      auto t = parse_time(a.recorded_from);
      if (!t) return fail(t.status());
      request.recorded_from = *t;
    }
    if (!a.recorded_to.empty()) {
      auto t = parse_time(a.recorded_to, DateEdge::end_of_day);
      if (!t) return fail(t.status());
      request.recorded_to = *t;
    }
  }
  auto ledger = open_ledger(global, Access::only_read);
  if (!ledger) return fail(ledger.status());
  auto events = (*ledger)->read(request);
  if (!events) return fail(events.status());
  for (const auto& e : *events) {
    if (global.json) std::printf("%s\n", to_json(e).c_str());
    else print_event_line(e);
  }
  return 0;
}

// verify and backup read the data folder's files: with --server they would open a stray
// local folder, so they say where to run instead.
Status local_only(const GlobalOptions& global, const std::string& command) {
  if (global.server.empty()) return Status::success();
  return Status::invalid("`leanos " + command + "` reads the data folder itself and cannot go through --server; run it "
                         "on the server's machine with --data (after stopping the server, or on a `leanos backup` copy "
                         "made before)");
}

int run_verify(const GlobalOptions& global) {
  if (auto s = local_only(global, "verify"); !s) return fail(s);
  auto store = open_store(global, Access::only_read);
  if (!store) return fail(store.status());
  const auto report = (*store)->verify();
  if (global.json) {
    std::printf("{\"clean\":%s,\"events\":%llu,\"streams\":%llu,\"last_position\":%llu,\"problems\":[",
                report.clean() ? "true" : "false", static_cast<unsigned long long>(report.events),
                static_cast<unsigned long long>(report.streams),
                static_cast<unsigned long long>(report.last_position));
    for (std::size_t i = 0; i < report.problems.size(); ++i) {
      google::protobuf::Value what;
      what.set_string_value(report.problems[i].what);
      std::printf("%s{\"position\":%llu,\"what\":%s}", i ? "," : "",
                  static_cast<unsigned long long>(report.problems[i].position), to_json(what).c_str());
    }
    std::printf("]}\n");
  } else {
    for (const auto& p : report.problems)
      std::printf("position %llu: %s\n", static_cast<unsigned long long>(p.position), p.what.c_str());
    std::printf("%s: %llu events in %llu streams, last position %llu, %zu problem(s)\n",
                report.clean() ? "clean" : "NOT CLEAN", static_cast<unsigned long long>(report.events),
                static_cast<unsigned long long>(report.streams),
                static_cast<unsigned long long>(report.last_position), report.problems.size());
  }
  if (!report.clean()) {
    std::fprintf(stderr, "leanos: verify found %zu problem(s) in %s; restore from a backup (leanos backup) "
                         "or inspect the positions listed\n",
                 report.problems.size(), global.data.c_str());
    return exit_code(Code::corruption);
  }
  return 0;
}

int run_backup(const GlobalOptions& global, const std::string& dest) {
  if (auto s = local_only(global, "backup"); !s) return fail(s);
  auto store = open_store(global);
  if (!store) return fail(store.status());
  if (auto s = (*store)->backup(dest); !s) return fail(s);
  std::printf("backup of %s at position %llu written to %s\n", global.data.c_str(),
              static_cast<unsigned long long>((*store)->last_position()), dest.c_str());
  return 0;
}

int run_forget(const GlobalOptions& global, const std::string& subject, const std::string& reason) {
  auto ledger = open_ledger(global, Access::read);
  if (!ledger) return fail(ledger.status());
  auto done = (*ledger)->forget(subject, reason, global.actor);
  if (!done) return fail(done.status());
  if (global.json) {
    std::printf("{\"subject_hash\":\"%s\",\"position\":%llu}\n", done->subject_hash.c_str(),
                static_cast<unsigned long long>(done->position));
  } else {
    std::printf("forgot subject %s at position %llu: their personal fields read %s from now on\n",
                done->subject_hash.c_str(), static_cast<unsigned long long>(done->position), kErased);
  }
  return 0;
}

int run_rotate_key(const GlobalOptions& global, const std::string& new_file) {
  if (auto s = local_only(global, "rotate-key"); !s) return fail(s);
  store::StoreOptions options;
  options.master_key_file = global.master_key_file;
  if (auto s = store::EventStore::rotate_master_key(global.data, options, new_file); !s) return fail(s);
  std::printf("the keys of %s are wrapped under %s now: open it with --master-key-file %s (or $LEANOS_MASTER_KEY_FILE); "
              "destroy the old key file\n",
              global.data.c_str(), new_file.c_str(), new_file.c_str());
  return 0;
}

}  // namespace

void add_store_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto append_args = std::make_shared<AppendArgs>();
  auto* append = app.add_subcommand("append", "append a generic event (or a file of envelopes) to a stream");
  append->add_option("stream", append_args->stream, "stream name, e.g. notes-1")->required();
  append->add_option("--type", append_args->type, "event type");
  append->add_option("--payload", append_args->payload, "JSON object stored as the event's body");
  append->add_option("--file", append_args->file, "JSON envelopes, one per line, appended atomically");
  append->add_option("--expected", append_args->expected, "expected stream version: any|no_stream|exists|N");
  append->add_option("--id", append_args->id, "event id (a retry with the same id is idempotent)");
  append->add_option("--at", append_args->at, "when it happened (ISO-8601, UTC); default now");
  append->add_option("--causation", append_args->causation, "id of the event or command that caused it");
  append->add_option("--correlation", append_args->correlation, "id of the thread it belongs to");
  append->callback([&, append_args] { action = [&global, append_args] { return run_append(global, *append_args); }; });

  auto log_args = std::make_shared<LogArgs>();
  auto* log = app.add_subcommand("log", "print the event log (or one stream, or a recorded-time range)");
  log->add_option("--stream", log_args->stream, "only this stream");
  log->add_option("--from", log_args->from, "first position (or stream version with --stream)");
  log->add_option("--limit", log_args->limit, "at most N events");
  log->add_flag("--backward", log_args->backward, "newest first (with --stream)");
  log->add_option("--recorded-from", log_args->recorded_from, "events the store recorded at or after DATE");
  log->add_option("--recorded-to", log_args->recorded_to, "events the store recorded at or before DATE");
  log->callback([&, log_args] { action = [&global, log_args] { return run_log(global, *log_args); }; });

  auto* init = app.add_subcommand("init", "create an empty workspace in the data folder (recording commands also do)");
  init->callback([&] {
    action = [&global] {
      if (auto s = local_only(global, "init"); !s) return fail(s);
      auto store = open_store(global, Access::record);
      if (!store) return fail(store.status());
      std::printf("workspace %s: %llu events\n", global.data.c_str(), static_cast<unsigned long long>((*store)->last_position()));
      return 0;
    };
  });

  auto* verify = app.add_subcommand("verify", "check the log and its indexes; non-zero exit on any problem");
  verify->callback([&] { action = [&global] { return run_verify(global); }; });

  auto forget_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* forget = app.add_subcommand("forget",
                                    "erase a person's personal data (GDPR art. 17): destroys their key, records "
                                    "SubjectForgotten; their fields read [erased], every business fact stays");
  forget->add_option("subject", forget_args->first, "the person's e-mail, or the subject id of a contact without one")->required();
  forget->add_option("--reason", forget_args->second, "why, recorded in the event (name no one in it)")->required();
  forget->callback([&, forget_args] {
    action = [&global, forget_args] { return run_forget(global, forget_args->first, forget_args->second); };
  });

  auto new_key = std::make_shared<std::string>();
  auto* rotate = app.add_subcommand("rotate-key",
                                    "wrap the workspace's data keys under a new master key (on the data folder, "
                                    "with no server running)");
  rotate->add_option("new-key-file", *new_key, "the new master key file to create (must not exist)")->required();
  rotate->callback([&, new_key] { action = [&global, new_key] { return run_rotate_key(global, *new_key); }; });

  auto dest = std::make_shared<std::string>();
  auto* backup = app.add_subcommand("backup", "consistent online copy of the data folder (RocksDB checkpoint)");
  backup->add_option("dest", *dest, "folder to create (must not exist)")->required();
  backup->callback([&, dest] { action = [&global, dest] { return run_backup(global, *dest); }; });
}

}  // namespace leanos::cli
