// `leanos import --git DIR`: a git repository's commits, oldest first, each imported as the
// folder it was (tools/bridge/git.h walks them with libgit2).
#include <cstdio>
#include <limits>
#include <set>

#include "events/ids.h"
#include "tools/bridge/git.h"
#include "tools/bridge/import_detail.h"

namespace leanos::cli::import_detail {

// `import --git`: each commit not imported yet, oldest first, as the folder it was; a file
// without a date of its own is dated by its commit. Each commit imported is recorded
// (SourceImported), so a re-run takes only the commits after.
int run_git_import(const GlobalOptions& g, const std::string& dir, bool dry_run, bool strict, bool accept_files) {
  if (!g.server.empty())
    return fail(Status::precondition("import --git reads the repository's history into the data folder where it runs: run it with --data "
                                     "where the ledger is, or import a checkout over --server (`leanos --server … import DIR`)"));
  auto history = bridge::git_history(dir);
  if (!history) return fail(history.status());
  auto o = open_for_import(g, dry_run);
  if (!o) return fail(o.status());
  std::set<std::string> done;
  if (o->store) {
    auto imports = o->store->read_stream(kImportsStream, 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
    if (!imports) return fail(imports.status());
    for (const auto& e : *imports)
      if (e.has_source_imported() && e.source_imported().source() == "git") done.insert(e.source_imported().revision());
  }
  nlohmann::json commits = nlohmann::json::array();
  std::size_t recorded = 0, skipped = 0, imported = 0, versions = 0, conflicts = 0, warnings = 0, corrected = 0;
  auto held = held_files(*o);
  if (!held) return fail(held.status());
  // One scratch folder for the run, brought from one commit's tree to the next by writing
  // only what changed: the facts are read from it as from the workspace's own folder.
  auto scratch = bridge::ScratchFolder::make("leanos-git-");
  if (!scratch) return fail(scratch.status());
  bridge::FolderCopy copy;
  bridge::BlobCache blobs;  // the last commit's, by blob id: what the next one did not change is not read again
  for (const auto& c : *history) {
    if (done.count(c.id)) continue;
    // The commit's files as git holds them (bytes, modes, links), then the facts read from its folder.
    auto files_tree = bridge::commit_files(dir, c.id, &blobs);
    if (!files_tree) return fail(files_tree.status());
    auto files = bridge::record_files(o->store.get(), o->runtime.get(), *files_tree, *held,
                                      {c.time, c.id, c.committed, import_actor(g, c.id), {{"git_commit", c.id}}});
    if (!files) return fail(files.status());
    versions += files->versions;
    // The paths this commit changed since the one imported before it (every path, for the
    // first of the run): the other text files were read as documents then.
    std::set<std::string> changed;
    if (auto s = bridge::sync_folder(*files_tree, scratch->path(), copy, &changed); !s) return fail(s);
    auto f = import_folder(o->store.get(), o->runtime.get(), scratch->path(),
                           {{import_actor(g, c.id), c.time, &changed}, {{"git_commit", c.id}}, strict, accept_files, files->deleted_paths, c.time, nullptr});
    if (!f) return fail(f.status());
    f->skipped += files->refused.size();  // a submodule, a crafted name: named by the files layer
    ++imported;
    recorded += f->recorded;
    conflicts += f->conflicts;
    corrected += f->corrected;
    warnings += f->warnings;
    skipped += f->skipped;
    if (o->runtime) {
      v1::SourceImported s;
      s.set_source("git");
      s.set_revision(c.id);
      s.set_summary(c.summary);
      s.set_events(f->recorded);
      s.set_facts_skipped(f->skipped);
      Envelope e = make_event(s, c.time);
      e.set_event_id(git_import_event_id(c.id));
      e.set_actor(import_actor(g, c.id));
      (*e.mutable_metadata())["git_commit"] = c.id;
      if (auto h = o->runtime->submit_batch({e}); !h) return fail(h.status());
    }
    const auto report = to_report(*f, *files, dry_run);
    if (g.json) {
      auto j = report_json(report);
      j["commit"] = c.id;
      j["committed_at"] = format_time(c.time);
      j["summary"] = c.summary;
      commits.push_back(std::move(j));
    } else {
      std::printf("commit    %s %s %s: %zu events%s\n", c.id.substr(0, 10).c_str(), format_date(c.time).c_str(), c.summary.c_str(),
                  f->recorded, f->skipped ? (", " + std::to_string(f->skipped) + " facts skipped").c_str() : "");
      if (files->versions || !files->refused.empty()) print_files(report);
      print_units(report, Detail::changed);
    }
  }
  if (!dry_run && imported)  // a bulk write: its WAL is not left for every later open to replay
    if (auto s = o->store->flush(); !s) return fail(s);
  if (g.json) {
    nlohmann::json j;
    j["dry_run"] = dry_run;
    j["commits_imported"] = imported;
    j["commits_already_imported"] = done.size();
    j["events_recorded"] = recorded;
    j["facts_skipped"] = skipped;
    j["conflicts"] = conflicts;
    j["corrected"] = corrected;
    j["warnings"] = warnings;
    j["file_versions_recorded"] = versions;
    j["commits"] = std::move(commits);
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s%zu events from %zu new commits (%zu imported before); %zu facts skipped%s%s\n",
                dry_run ? "dry run, nothing recorded: " : "imported ", recorded, imported, done.size(), skipped,
                warnings ? ("; " + std::to_string(warnings) + " warnings (what reading assumed)").c_str() : "",
                conflicts ? ("; " + std::to_string(conflicts) + " conflicts with the ledger (it kept what it recorded)").c_str() : "");
  }
  return exit_of(skipped, conflicts, warnings);
}

}  // namespace leanos::cli::import_detail
