// `leanos files`, `files log PATH`, `files diff PATH`, `checkout DIR`: the workspace's files
// as written (the files layer), at any point in time or git commit. `export` renders what the
// ledger knows; `checkout` gives back what was written.
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "tools/bridge/export.h"
#include "tools/bridge/git.h"
#include "tools/bridge/import_command.h"
#include "tools/cli/time_travel.h"

namespace leanos::cli {

namespace {

struct FilesArgs {
  TimeTravelOptions time;
  std::string commit, path, dir;
  bool force = false;
  std::uint32_t from = 0, to = 0;
};

v1::QueryRequest files_query(const FilesArgs& a) {
  v1::QueryRequest q;
  a.time.into(q);
  q.mutable_files()->set_commit(a.commit);
  q.mutable_files()->set_path(a.path);
  return q;
}

// The files view (or a file's log) with the ledger their bytes are read from: the data
// folder's, or a server's.
struct LedgerFiles {
  std::unique_ptr<Ledger> ledger;
  v1::QueryReply reply;
};

Result<LedgerFiles> ledger_files(const GlobalOptions& g, const FilesArgs& a) {
  auto ledger = open_ledger(g, Access::only_read);
  if (!ledger) return ledger.status();
  auto r = (*ledger)->query(files_query(a));
  if (!r) return r.status();
  return LedgerFiles{std::move(*ledger), std::move(*r)};
}

int run_checkout(const GlobalOptions& g, const FilesArgs& a) {
  auto source = ledger_files(g, a);
  if (!source) return fail(source.status());
  auto& ledger = *source->ledger;
  const auto* r = &source->reply;
  // Two threads (this machine's cores; a server's calls overlap too), each reading a file's
  // content (a chain of reads, decryptions and inflations) and writing it at once: reading
  // all then writing all on one thread left a core idle for half a checkout. Every path is
  // checked before anything is written; a content that cannot be read stops both, and what
  // was written goes (the writer's discard).
  const auto& listed = r->files().files();
  std::vector<std::string> paths;
  for (const auto& f : listed) paths.push_back(f.path());
  auto writer = bridge::WorkspaceWriter::begin(a.dir, paths, a.force);
  if (!writer) return fail(writer.status());
  std::vector<Status> failed(static_cast<std::size_t>(listed.size()));
  std::atomic<int> next{0};
  std::atomic<bool> stop{false};
  auto work = [&] {
    for (int i; !stop && (i = next++) < listed.size();) {
      const auto& f = listed[i];
      auto& why = failed[static_cast<std::size_t>(i)];
      auto bytes = ledger.read_file(f.sha256());
      if (!bytes) why = Status(bytes.status().code(), f.path() + ": " + bytes.status().message() + "; nothing was written");
      else why = (*writer)->write(f.path(), *bytes, f.kind(), from_timestamp(f.written_at()));
      if (!why) stop = true;
    }
  };
  {
    std::thread other(work);
    work();
    other.join();
  }
  for (const auto& why : failed)
    if (!why) return fail(why);  // the first in the listing's order; the writer removes what it wrote
  if (auto s = (*writer)->finish(); !s) return fail(s);
  std::string at = !r->files().commit().empty() ? " at commit " + r->files().commit() : "";
  if (!a.time.as_of.empty()) at += " as of " + a.time.as_of;
  if (!a.time.known_at.empty()) at += " as known at " + a.time.known_at;
  if (a.time.position_opt->count() > 0) at += " at position " + std::to_string(a.time.at_position);
  if (at.empty()) at = " now";
  if (g.json)
    std::printf("%s\n", nlohmann::json{{"files", listed.size()}, {"bytes", r->files().total_bytes()}, {"dir", a.dir}, {"commit", r->files().commit()}}
                             .dump()
                             .c_str());
  else
    out("checked out %d files (%llu bytes) into %s: the workspace%s\n", listed.size(),
        static_cast<unsigned long long>(r->files().total_bytes()), a.dir.c_str(), at.c_str());
  return 0;
}

int run_diff(const GlobalOptions& g, const FilesArgs& a) {
  auto source = ledger_files(g, a);
  if (!source) return fail(source.status());
  auto& ledger = *source->ledger;
  const auto* r = &source->reply;
  const auto& versions = r->file_log().versions();
  const auto last = static_cast<std::uint32_t>(versions.size());
  const std::uint32_t to = a.to ? a.to : last, from = a.from ? a.from : to - 1;
  if (to > last || from > last || from >= to)
    return fail(Status::invalid(a.path + " has versions 1 to " + std::to_string(last) + ": give --from below --to, both in that range"));
  auto bytes_of = [&](std::uint32_t v) -> Result<std::string> {
    if (v == 0) return std::string();
    const auto& e = versions[static_cast<int>(v - 1)];
    if (e.kind() == v1::FILE_DELETED) return std::string();
    return ledger.read_file(e.sha256());
  };
  auto old_bytes = bytes_of(from), new_bytes = bytes_of(to);
  if (!old_bytes) return fail(old_bytes.status());
  if (!new_bytes) return fail(new_bytes.status());
  auto patch = bridge::unified_diff(*old_bytes, *new_bytes, from ? a.path + " (version " + std::to_string(from) + ")" : "/dev/null",
                                    a.path + " (version " + std::to_string(to) + ")");
  if (!patch) return fail(patch.status());
  std::fputs(patch->c_str(), stdout);
  return 0;
}

}  // namespace

void add_files_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  auto a = std::make_shared<FilesArgs>();
  auto* files = app.add_subcommand("files", "the workspace's files as written (every file import read), at any point in time or git commit");
  add_time_travel(files, a->time);
  files->add_option("--commit", a->commit, "as they were in this git commit (imported with import --git; 7 or more hex digits)");
  files->callback([&g, &action, a, files] {
    if (files->get_subcommands().empty()) action = [&g, a] { return query(g, files_query(*a)); };
  });
  auto* log = files->add_subcommand("log", "every version of one file: date, size, sha256, commit; deletions too");
  log->add_option("path", a->path, "the file, workspace-relative, e.g. strategy/canvas/07-uvp.md")->required();
  log->callback([&g, &action, a] { action = [&g, a] { return query(g, files_query(*a)); }; });
  auto* diff = files->add_subcommand("diff", "a unified diff between two versions of one file (default: the last two)");
  diff->add_option("path", a->path, "the file, workspace-relative")->required();
  diff->add_option("--from", a->from, "the older version's number (files log lists them)");
  diff->add_option("--to", a->to, "the newer version's number (default: the last)");
  diff->callback([&g, &action, a] { action = [&g, a] { return run_diff(g, *a); }; });

  auto c = std::make_shared<FilesArgs>();
  auto* checkout = app.add_subcommand("checkout", "write the workspace's files exactly as they were (bytes, executable bit, links) at any point in time or git commit");
  checkout->add_option("dir", c->dir, "the folder to write (new or empty)")->required();
  add_time_travel(checkout, c->time);
  checkout->add_option("--commit", c->commit, "as they were in this git commit (imported with import --git)");
  checkout->add_flag("--force", c->force, "write into a folder that has files (files of the same path are replaced)");
  checkout->callback([&g, &action, c] { action = [&g, c] { return run_checkout(g, *c); }; });
}

}  // namespace leanos::cli
