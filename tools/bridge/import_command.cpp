// `leanos import DIR`: a LeanOS workspace folder into the ledger, through the actors and the
// rules, one thread (or canvas file) at a time, fact by fact: a fact that cannot be read or
// that the rules refuse is skipped alone (the facts depending on it are then refused, each
// named); a report of what was recorded, what was already there, what was assumed (warnings)
// and what could not be read, by file and line.
#include "tools/bridge/import_command.h"
#include "tools/bridge/import_detail.h"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <set>
#include <map>

#include "actors/files.h"
#include "actors/ledger_reader.h"
#include "events/ids.h"
#include "actors/queries.h"
#include "actors/runtime.h"
#include "projections/views.h"
#include "tools/bridge/files_import.h"
#include "tools/bridge/git.h"
#include "tools/bridge/reconcile.h"
#include "tools/bridge/workspace.h"

namespace leanos::cli {

namespace import_detail {

using bridge::Problem;
using bridge::Unit;

std::string where(const Problem& p) { return p.file + (p.line ? ":" + std::to_string(p.line) : ""); }


// Reads `dir` and records what is new through `runtime` (none: a dry run).
Result<FolderImport> import_folder(store::EventStore* store, Runtime* runtime, const std::string& dir, const ImportOptions& opts) {
  const bool dry_run = runtime == nullptr;
  const auto& options = opts.read;
  const auto& metadata = opts.metadata;
  auto ws = bridge::read_workspace(dir, options);
  if (!ws) return ws.status();
  // What the ledger holds before the import: a fact it has (recorded by the CLI, a server
  // client, an earlier import) is not recorded again, whatever its id.
  bridge::Held held;
  held.ledger = projections::empty_ledger();
  if (store) {
    LedgerOptions reading;
    reading.write_snapshots = !dry_run;
    // Read again for every commit of a git history: full snapshots as often as core ones (the
    // default waits 100 000 events, and each commit's read then folded the whole log).
    reading.snapshot_every = reading.core_snapshot_every;
    auto read = read_ledger(*store, AsOf{}, reading);
    if (!read) return read.status();
    held.ledger = std::move(read->view);
    // The campaigns and the deals the workspace names, as their views: a file's facts are
    // judged against them (stage 5 fact by fact; a field a file rewrote is a conflict).
    auto views = [&](auto id_of, const auto& in_ledger, auto& into, auto ask, auto take) -> Status {
      for (const auto& u : ws->units)
        for (const auto& f : u.facts)
          if (const std::string id = id_of(f.command); !id.empty() && !into.count(id) && in_ledger.count(id)) {
            v1::QueryRequest q;
            ask(q, id);
            auto r = answer_query(*store, q, now_micros());
            if (!r) return r.status();
            into[id] = take(*r);
          }
      return Status::success();
    };
    if (auto st = views([](const Envelope& c) { return campaign_id_of(c); }, held.ledger.campaigns(), held.campaigns,
                        [](v1::QueryRequest& q, const std::string& id) { q.mutable_campaign()->set_campaign_id(id); },
                        [](const v1::QueryReply& r) { return r.campaign(); });
        !st)
      return st;
    if (auto st = views([](const Envelope& c) { return deal_id_of(c); }, held.ledger.deals(), held.deals,
                        [](v1::QueryRequest& q, const std::string& id) { q.mutable_deal()->set_deal_id(id); },
                        [](const v1::QueryReply& r) { return r.deal(); });
        !st)
      return st;
  }
  // The documents in force (the ledger read above), with their text: a file that reads the
  // same is not a new version.
  struct InForce {
    std::string content, content_sha256, event_id;  // its text, or the files layer's content that holds it
    Micros written_at = 0;
    bool removed = false;
    bool reads(const std::string& text) const { return content_sha256.empty() ? content == text : content_sha256 == sha256_hex(text); }
  };
  std::map<std::string, InForce> documents;
  if (store)
    for (const auto& [path, ref] : held.ledger.documents()) {
      auto e = store->read_event(ref.position());
      if (!e) return e.status();
      const auto& d = e->document_written();
      documents[path] = {d.content(), d.content_sha256(), ref.event_id(), ref.written_at(), ref.removed()};
    }
  std::vector<UnitReport> reports;
  std::size_t recorded = 0, skipped = 0, conflicts = 0, warnings = 0, corrected = 0;
  std::uint64_t last = 0;
  // Each fact says where it came from: the git commit (`metadata`), and its file, line and the
  // file's version (SHA-256 of its bytes, as the files layer keeps them).
  std::map<std::string, std::string> versions;
  auto version_of = [&](const std::string& rel) -> const std::string& {
    auto it = versions.find(rel);
    if (it != versions.end()) return it->second;
    const auto path = std::filesystem::path(dir) / rel;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path, ec)))  // a folder (the narratives' three files)
      return versions[rel] = std::string();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return versions[rel] = in ? sha256_hex(bytes.str()) : std::string();
  };
  auto stamped = [&](Envelope c, const std::string& file, int line) {
    for (const auto& [k, v] : metadata) (*c.mutable_metadata())[k] = v;
    auto& m = *c.mutable_metadata();
    m["source_file"] = file;
    if (line > 0) m["source_line"] = std::to_string(line);
    if (const auto& sha = version_of(file); !sha.empty()) m["source_sha256"] = sha;
    return c;
  };
  // What reading a fact assumed: its own warnings, and its file's (its bytes read as
  // Windows-1252), the file's once per unit.
  auto assumed = [&](const bridge::Fact& f, std::set<std::string>& files_told) {
    std::vector<Problem> out = f.warnings;
    if (auto it = ws->warnings_by_file.find(f.file); it != ws->warnings_by_file.end() && files_told.insert(f.file).second)
      out.insert(out.end(), it->second.begin(), it->second.end());
    return out;
  };
  for (const Unit& u : ws->units) {
    if (opts.progress) opts.progress(reports.size(), ws->units.size(), u.name);
    UnitReport r{u.name, "", 0, u.problems, u.conflicts, {}, {}};
    // What the store holds already (the same fact read again) is left out: the rest is new.
    std::vector<Envelope> fresh;
    std::vector<const bridge::Fact*> of;
    std::map<std::size_t, std::string> rewrites;  // index in `fresh` of a correction: what the file rewrote
    std::set<std::string> files_told;
    for (const auto& f : u.facts) {
      Envelope c = f.command;
      if (f.command.has_document_written()) {
        // A new version when the text differs from the one in force (the rules decide that, and
        // the date's order, for every writer: this only tells what is new before asking); its
        // id follows from the version it replaces, so that text going back to an earlier one is
        // a version too.
        const auto& d = f.command.document_written();
        auto in_force = documents.find(d.path());
        if (in_force != documents.end() && !in_force->second.removed && in_force->second.reads(d.content())) continue;
        c.set_event_id(derived_event_id("leanos-import:" + d.path() + "#document",
                                        d.content() + "@after:" + (in_force == documents.end() ? "" : in_force->second.event_id)));
        if (store && !dry_run)
          if (auto st = bridge::name_held_content(*store, *c.mutable_document_written()); !st) return st;
      } else {
        if (store) {
          auto known = store->find_event_id(f.command.event_id());
          if (!known) return known.status();
          if (known->has_value()) continue;
        }
        if (const auto k = bridge::known_in_ledger(held, f.command, options.fallback_date); k.held) {
          if (k.differs.empty()) continue;
          // --accept-files: the file's version as a correction (the ledger follows the file,
          // the audit keeps both); else a conflict, and the ledger keeps what it recorded.
          auto correction = opts.accept_files ? bridge::correction_of(held, f.command) : bridge::Correction{};
          if (!correction.command) {
            r.conflicts.push_back({f.file, f.line, f.what + ": " + k.differs + "; the ledger keeps what it recorded" +
                                                       (opts.accept_files ? " (" + correction.why_not + ")" : "")});
            ++conflicts;
            continue;
          }
          fresh.push_back(stamped(std::move(*correction.command), f.file, f.line));
          of.push_back(&f);
          rewrites[fresh.size() - 1] = k.differs;
          continue;
        }
      }
      auto told = assumed(f, files_told);
      if (opts.strict && !told.empty()) {  // --strict: an assumption is a refusal
        for (const auto& w : told) r.problems.push_back({w.file, w.line, f.what + ": " + w.what + " (--strict)"});
        continue;
      }
      r.warnings.insert(r.warnings.end(), told.begin(), told.end());
      fresh.push_back(stamped(std::move(c), f.file, f.line));
      of.push_back(&f);
    }
    // Each fact on its own: one the rules refuse is named and left out, and the rest is tried
    // again (a fact that depended on it is then refused in turn, and named).
    std::size_t events = 0;
    while (!fresh.empty() && !dry_run) {
      auto h = runtime->submit_batch(fresh);
      if (h) {
        events = h->events.size();
        for (const auto& e : h->events) last = std::max(last, e.position());
        for (const auto& [i, differs] : rewrites) r.corrected.push_back({of[i]->file, of[i]->line, of[i]->what + ": " + differs + "; corrected: the ledger follows the file"});
        break;
      }
      const Status& st = h.status();
      const std::string index = st.param("batch_index");
      const std::size_t i = index.empty() ? 0 : std::stoul(index);
      // The store failing is not a fact's refusal: the import stops and says why.
      if (i >= fresh.size() || (st.code() != Code::invalid_argument && st.code() != Code::not_found &&
                                st.code() != Code::failed_precondition && st.code() != Code::already_exists))
        return st;
      if (auto rewrite = rewrites.find(i); rewrite != rewrites.end()) {  // a correction refused: the conflict stands
        r.conflicts.push_back({of[i]->file, of[i]->line, of[i]->what + ": " + rewrite->second + "; the ledger keeps what it recorded (its correction: " +
                                                             st.reason() + (st.rule_id().empty() ? "" : " [" + st.rule_id() + "]") + ")"});
        ++conflicts;
      } else {
        r.problems.push_back({of[i]->file, of[i]->line, of[i]->what + ": " + st.reason() + (st.rule_id().empty() ? "" : " [" + st.rule_id() + "]")});
      }
      // The rewrites after it move down one.
      std::map<std::size_t, std::string> moved;
      for (auto& [j, differs] : rewrites)
        if (j != i) moved[j > i ? j - 1 : j] = std::move(differs);
      rewrites = std::move(moved);
      // Its warnings are not told: it is not recorded.
      std::erase_if(r.warnings, [&](const Problem& w) {
        return std::any_of(of[i]->warnings.begin(), of[i]->warnings.end(),
                           [&](const Problem& x) { return x.file == w.file && x.line == w.line && x.what == w.what; });
      });
      fresh.erase(fresh.begin() + static_cast<long>(i));
      of.erase(of.begin() + static_cast<long>(i));
    }
    if (dry_run) {
      events = fresh.size();
      for (const auto& [i, differs] : rewrites) r.corrected.push_back({of[i]->file, of[i]->line, of[i]->what + ": " + differs + "; would be corrected"});
    }
    corrected += r.corrected.size();
    r.events = events;
    skipped += r.problems.size();
    if (events) {
      r.status = dry_run ? "would record" : r.problems.empty() ? "recorded" : "partial";
      recorded += dry_run ? 0 : events;
      warnings += r.warnings.size();
    } else {
      r.warnings.clear();
      r.status = !r.problems.empty() ? "skipped" : !r.conflicts.empty() ? "conflict" : "unchanged";
    }
    reports.push_back(std::move(r));
  }
  // A document whose file is gone from the workspace is removed from then on. A file that
  // states a date after its deletion (its **Date:** line) is removed just after that date:
  // the latest version by business time is the one in force.
  for (const auto& path : opts.deleted) {
    auto in_force = documents.find(path);
    if (in_force == documents.end() || in_force->second.removed) continue;
    v1::DocumentWritten d;
    d.set_path(path);
    d.set_removed(true);
    Envelope c = make_event(d, std::max(opts.deleted_at, in_force->second.written_at + 1));
    c.set_event_id(derived_event_id("leanos-import:" + path + "#document", "removed@after:" + in_force->second.event_id));
    c.set_actor(options.actor);
    c = stamped(std::move(c), path, 0);  // the commit, and the file it was (gone: no version)
    UnitReport r{path + " (removed: the file is gone from the workspace)", dry_run ? "would record" : "recorded", 1, {}, {}, {}, {}};
    if (!dry_run) {
      auto h = runtime->submit_batch({c});
      if (!h) {
        r.status = "skipped";
        r.events = 0;
        r.problems.push_back({path, 0, "its removal: " + h.status().reason()});
        ++skipped;
      } else {
        recorded += h->events.size();
        for (const auto& e : h->events) last = std::max(last, e.position());
      }
    }
    reports.push_back(std::move(r));
  }
  // Outcomes and learnings cause canvas, goal and marketing events: wait for them.
  if (runtime && last)
    if (auto s = runtime->settle(last); !s) return s;
  // The canvas file states each assumption's confidence now; the recorded history gives its
  // own. Where they differ (an agent edited the canvas, a learning the threads do not hold),
  // the file's value is recorded as a revision on its **Last validated:** date, as
  // `leanos canvas revise` would; without a date, or where later learnings move it on again,
  // the report says so.
  std::vector<Problem> disagreements;
  // Each assumption's confidence and status in the recorded history, as of a date (or now).
  struct Held {
    int confidence = 0;
    std::string status;
  };
  auto canvas_at = [&](std::optional<Micros> as_of) -> std::map<std::string, Held> {
    std::map<std::string, Held> out;
    v1::QueryRequest q;
    q.mutable_canvas();
    if (as_of) q.set_as_of(format_time(*as_of));
    if (auto c = answer_query(*store, q, now_micros()))
      for (const auto& a : c->canvas().assumptions()) out[a.id()] = {a.confidence(), projections::assumption_status_name(a.status())};
    return out;
  };
  // Whether the history agrees with what the file states (a status it gives, and its confidence).
  auto agrees = [](const Held& h, const bridge::StatedConfidence& s) {
    return h.confidence == s.confidence &&
           (s.status == v1::ASSUMPTION_STATUS_UNSPECIFIED || h.status == projections::assumption_status_name(s.status));
  };
  auto stated_text = [](const Held& h, const bridge::StatedConfidence& s) {
    std::string out = std::to_string(h.confidence) + " %";
    if (s.status != v1::ASSUMPTION_STATUS_UNSPECIFIED && h.status != projections::assumption_status_name(s.status))
      out += " " + h.status + " -> " + std::to_string(s.confidence) + " % " + projections::assumption_status_name(s.status);
    else
      out += " -> " + std::to_string(s.confidence) + " %";
    return out;
  };
  if (store && !ws->stated.empty()) {
    auto history = canvas_at(std::nullopt);
    std::vector<UnitReport> revised;
    std::uint64_t revision_last = 0;
    for (const auto& s : ws->stated) {
      auto it = history.find(s.id);
      if (it == history.end() || agrees(it->second, s) || !s.revision) continue;
      auto known = store->find_event_id(s.revision->command.event_id());
      if (!known) return known.status();
      if (known->has_value()) continue;  // revised at an earlier import: what follows it is told below
      // A file older than the history (an earlier export, say): on its own date the history
      // already says what it says, so there is nothing to restate; what followed moved it on.
      const auto then = canvas_at(from_timestamp(s.revision->command.occurred_at()));
      if (auto was = then.find(s.id); was != then.end() && agrees(was->second, s)) continue;
      UnitReport r{s.file + " (" + s.id + " " + stated_text(it->second, s) + ")", "", 0, {}, {}, s.revision->warnings, {}};
      if (opts.strict && !r.warnings.empty()) {
        for (const auto& w : r.warnings) r.problems.push_back({w.file, w.line, s.revision->what + ": " + w.what + " (--strict)"});
        r.warnings.clear();
        r.status = "skipped";
        ++skipped;
      } else if (dry_run) {
        r.status = "would record";
        r.events = 1;
      } else if (auto h = runtime->submit_batch({stamped(s.revision->command, s.file, s.line)}); !h) {
        r.status = "skipped";
        r.problems.push_back({s.file, s.line, s.revision->what + ": " + h.status().reason()});
        ++skipped;
      } else {
        r.status = "recorded";
        r.events = h->events.size();
        recorded += r.events;
        for (const auto& e : h->events) revision_last = std::max(revision_last, e.position());
      }
      if (r.status == "skipped") r.warnings.clear();
      warnings += r.warnings.size();
      revised.push_back(std::move(r));
    }
    if (revision_last)
      if (auto st = runtime->settle(revision_last); !st) return st;
    reports.insert(reports.end(), revised.begin(), revised.end());
    if (!dry_run) history = canvas_at(std::nullopt);
    for (const auto& s : ws->stated) {
      auto it = history.find(s.id);
      if (it == history.end() || agrees(it->second, s)) continue;
      if (dry_run && s.revision) continue;  // reported as a revision it would record
      disagreements.push_back({s.file, s.line,
                               s.id + ": the file says " + std::to_string(s.confidence) + " %" +
                                   (s.status == v1::ASSUMPTION_STATUS_UNSPECIFIED ? "" : " " + projections::assumption_status_name(s.status)) +
                                   ", the recorded history gives " + std::to_string(it->second.confidence) + " % " +
                                   it->second.status + " " +
                                   (s.revision ? "(learnings after its **Last validated:** date move it on; the history is what the ledger shows)"
                                               : "(add **Last validated:** YYYY-MM-DD to record the file's value as a revision)")});
    }
  }
  skipped += ws->refused.size();
  return FolderImport{std::move(reports), std::move(ws->refused), std::move(disagreements), std::move(ws->placeholders),
                      ws->files_read, recorded, skipped, conflicts, corrected, warnings};
}

// 13 when facts were skipped (it wins), 14 when a file disagrees with a recorded fact, 15 when
// what was recorded needed an assumption (warnings), else 0.
int exit_of(std::size_t skipped, std::size_t conflicts, std::size_t warnings) {
  return skipped ? kExitImportIncomplete : conflicts ? kExitImportConflicts : warnings ? kExitImportWarnings : 0;
}

namespace {

void add_problems(const std::vector<Problem>& ps, google::protobuf::RepeatedPtrField<v1::ImportProblem>* into) {
  for (const auto& p : ps) {
    auto* q = into->Add();
    q->set_file(p.file);
    q->set_line(static_cast<std::uint32_t>(std::max(p.line, 0)));
    q->set_what(p.what);
  }
}

std::string where(const v1::ImportProblem& p) { return p.file() + (p.line() ? ":" + std::to_string(p.line()) : ""); }

}  // namespace

v1::ImportReport to_report(const FolderImport& f, const bridge::FilesRecorded& files, bool dry_run) {
  v1::ImportReport r;
  r.set_files_read(static_cast<std::uint32_t>(f.files_read));
  r.set_events_recorded(static_cast<std::uint32_t>(f.recorded));
  r.set_facts_skipped(static_cast<std::uint32_t>(f.skipped));
  r.set_conflicts(static_cast<std::uint32_t>(f.conflicts));
  r.set_warnings(static_cast<std::uint32_t>(f.warnings));
  r.set_corrected(static_cast<std::uint32_t>(f.corrected));
  for (const auto& u : f.reports) {
    auto* unit = r.add_units();
    unit->set_name(u.name);
    unit->set_status(u.status);
    unit->set_events(static_cast<std::uint32_t>(u.events));
    add_problems(u.problems, unit->mutable_problems());
    add_problems(u.conflicts, unit->mutable_conflicts());
    add_problems(u.warnings, unit->mutable_warnings());
    add_problems(u.corrected, unit->mutable_corrected());
  }
  add_problems(f.refused, r.mutable_refused());
  add_problems(f.disagreements, r.mutable_disagreements());
  for (const auto& p : f.placeholders) r.add_placeholders(p);
  r.set_dry_run(dry_run);
  auto* fl = r.mutable_files();
  fl->set_versions_recorded(static_cast<std::uint32_t>(files.versions));
  fl->set_deleted(static_cast<std::uint32_t>(files.deleted));
  fl->set_new_contents(static_cast<std::uint32_t>(files.contents));
  fl->set_in_workspace(static_cast<std::uint32_t>(files.in_force));
  fl->set_ignored(static_cast<std::uint32_t>(files.ignored));
  add_problems(files.refused, fl->mutable_refused());
  r.set_exit_code(exit_of(f.skipped, f.conflicts, f.warnings));
  return r;
}

// The files layer's line of the report, and each file it could not keep.
void print_files(const v1::ImportReport& r) {
  const auto& f = r.files();
  std::printf("files     %u in the workspace: %u %s (%u new contents, %u deletions)%s\n", f.in_workspace(), f.versions_recorded(),
              r.dry_run() ? "versions to record" : "versions recorded", f.new_contents(), f.deleted(),
              f.ignored() ? (", " + std::to_string(f.ignored()) + " left out by .leanosignore").c_str() : "");
  for (const auto& p : f.refused()) std::printf("refused   %s: %s\n", where(p).c_str(), p.what().c_str());
}

// The report's lines, each unit that did something or has something to say, as `detail` asks.
void print_units(const v1::ImportReport& f, Detail detail) {
  for (const auto& r : f.units()) {
    if (r.status() == "skipped") {
      std::printf("skipped   %s: nothing of it recorded\n", r.name().c_str());
      for (const auto& p : r.problems()) std::printf("          %s: %s\n", where(p).c_str(), p.what().c_str());
    } else if (detail == Detail::every_unit || (detail == Detail::changed && r.status() != "unchanged") || !r.problems().empty() ||
               !r.warnings().empty() || !r.conflicts().empty() || !r.corrected().empty()) {
      std::printf("%-9s %s%s\n", r.status() == "would record" ? "new" : r.status().c_str(), r.name().c_str(),
                  r.events() ? (" (" + std::to_string(r.events()) + (f.dry_run() ? " facts)" : " events)")).c_str() : "");
      for (const auto& p : r.problems()) std::printf("          skipped: %s: %s\n", where(p).c_str(), p.what().c_str());
    }
    for (const auto& w : r.warnings()) std::printf("          warning: %s: %s\n", where(w).c_str(), w.what().c_str());
    for (const auto& c : r.conflicts()) std::printf("          note: %s: %s\n", where(c).c_str(), c.what().c_str());
    for (const auto& c : r.corrected()) std::printf("          corrected: %s: %s\n", where(c).c_str(), c.what().c_str());
  }
  for (const auto& p : f.refused()) std::printf("refused   %s: %s\n", where(p).c_str(), p.what().c_str());
  for (const auto& p : f.disagreements()) std::printf("note      %s: %s\n", where(p).c_str(), p.what().c_str());
}


Result<Opened> open_for_import(const GlobalOptions& g, bool dry_run) {
  Opened o;
  if (!dry_run) {
    auto s = open_store(g, Access::record);
    if (!s) return s.status();
    o.store = std::move(*s);
    o.runtime = std::make_unique<Runtime>(*o.store);
  } else if (auto s = open_store(g, Access::only_read); s) {
    o.store = std::move(*s);  // to tell what is recorded already; none: everything is new
  }
  return o;
}

// Who recorded an imported fact, as `why` and `audit` say it: the import (and the commit it
// read), or the --actor given for it.
std::string import_actor(const GlobalOptions& g, const std::string& commit) {
  if (!g.actor.empty()) return g.actor;
  return commit.empty() ? "import" : "import of git commit " + commit.substr(0, 12);
}

Result<bridge::FilesHeld> held_files(const Opened& o) {
  if (!o.store) return bridge::FilesHeld{};
  return bridge::files_held(*o.store);
}

}  // namespace import_detail

using namespace import_detail;

namespace {

// One import of a folder: the files layer first (every file as written), then the facts
// read from them.
Result<v1::ImportReport> import_run(store::EventStore* store, Runtime* runtime, const ImportFolder& request) {
  const auto& dir = request.dir;
  const auto& options = request.options;
  const std::string actor = options.actor().empty() ? "import" : options.actor();
  auto tree = bridge::read_folder_tree(dir);
  if (!tree)
    return tree.status().code() == Code::not_found
               ? Status::not_found("no folder " + dir + " to import; give the LeanOS workspace's folder (it holds strategy/ and threads/)")
               : tree.status();
  auto held = store ? bridge::files_held(*store) : Result<bridge::FilesHeld>(bridge::FilesHeld{});
  if (!held) return held.status();
  auto files = bridge::record_files(store, runtime, *tree, *held, {0, "", std::nullopt, actor, {}});
  if (!files) return files.status();
  // What the sender of the folder could not read (a RemoteLedger's), and what its
  // .leanosignore left out, are the report's too.
  for (const auto& p : options.refused()) files->refused.push_back({p.file(), static_cast<int>(p.line()), p.what()});
  files->ignored += options.ignored();
  auto f = import_folder(store, runtime, dir,
                         {{actor, 0}, {}, options.strict(), options.accept_files(), files->deleted_paths, now_micros(), request.progress});
  if (!f) return f.status();
  f->skipped += files->refused.size();
  if (runtime && (f->recorded || files->versions))  // a bulk write: its WAL is not left for every later open to replay
    if (auto s = store->flush(); !s) return s;
  return to_report(*f, *files, runtime == nullptr);
}

}  // namespace

nlohmann::json report_json(const v1::ImportReport& r) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;  // every count and list, zero and empty too
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(r, &out, options).ok()) return nlohmann::json::object();
  return nlohmann::json::parse(out);
}

LocalLedger::Importer importer() {
  return [](LocalLedger& ledger, const ImportFolder& request) {
    return import_run(&ledger.store(), request.options.dry_run() ? nullptr : &ledger.runtime(), request);
  };
}

int print_import(const GlobalOptions& g, const v1::ImportReport& r, bool quiet) {
  if (g.json) {
    std::printf("%s\n", report_json(r).dump().c_str());
  } else {
    if (!quiet || !r.files().refused().empty()) print_files(r);
    print_units(r, quiet ? Detail::problems : Detail::every_unit);
    std::printf("%s%u events from %u files; %u facts skipped; %d empty placeholder files%s%s%s\n",
                r.dry_run() ? "dry run, nothing recorded: " : "imported ", r.events_recorded(), r.files_read(), r.facts_skipped(),
                r.placeholders_size(),
                r.warnings() ? ("; " + std::to_string(r.warnings()) + " warnings (what reading assumed)").c_str() : "",
                r.conflicts() ? ("; " + std::to_string(r.conflicts()) + " conflicts with the ledger (it kept what it recorded)").c_str() : "",
                r.corrected() ? ("; " + std::to_string(r.corrected()) + " recorded facts corrected as the files tell them").c_str() : "");
  }
  std::fflush(stdout);
  return r.exit_code();
}

namespace {

int run_import(const GlobalOptions& g, const std::string& dir, bool dry_run, bool strict, bool accept_files) {
  ImportFolder request{dir, {}, nullptr};
  request.options.set_strict(strict);
  request.options.set_accept_files(accept_files);
  request.options.set_dry_run(dry_run);
  request.options.set_actor(g.actor);
  auto ledger = open_ledger(g, dry_run ? Access::only_read : Access::record);
  Result<v1::ImportReport> report = Status::unavailable("");
  if (!ledger && dry_run && g.server.empty() && ledger.status().code() == Code::not_found)
    report = import_run(nullptr, nullptr, request);  // no workspace yet: everything would be new
  else if (!ledger)
    return fail(ledger.status());
  else
    report = (*ledger)->import_folder(request);
  if (!report) return fail(report.status());
  return print_import(g, *report, false);
}

}  // namespace

void add_import_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  struct Args {
    std::string dir;
    bool dry_run = false, git = false, strict = false, accept_files = false;
  };
  auto a = std::make_shared<Args>();
  auto* s = app.add_subcommand("import", "import a LeanOS workspace folder: every file as written (see files, checkout), and the facts its files state: the canvas's assumptions, goals, sales deal and campaign threads, ICPs, narratives; other text files as documents");
  s->add_option("dir", a->dir, "the workspace folder (it holds strategy/ and threads/)")->required();
  s->add_flag("--dry-run", a->dry_run, "read and report; record nothing");
  s->add_flag("--git", a->git, "DIR is a git repository: import each commit not imported yet, oldest first, dated by the files or the commit");
  s->add_flag("--strict", a->strict,
              "record only what the files state: a fact whose reading had to assume something (a field recorded as unknown, a date "
              "taken from meta.json or the git commit, bytes read as Windows-1252) is skipped and named instead (exit 13)");
  s->add_flag("--accept-files", a->accept_files,
              "a recorded deal fact a file now tells otherwise (a rewritten reason, ARR, result) is corrected as the file tells it: the "
              "ledger follows the file, the audit keeps both (without it: a conflict, exit 14, and the ledger keeps its fact)");
  s->callback([&g, &action, a] {
    action = [&g, a] {
      return a->git ? run_git_import(g, a->dir, a->dry_run, a->strict, a->accept_files)
                    : run_import(g, a->dir, a->dry_run, a->strict, a->accept_files);
    };
  });
}

}  // namespace leanos::cli
