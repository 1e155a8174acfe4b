// How a CLI command records: --at and --id, the command envelope, the rules through the
// actors (or the server with --server), what is printed. One helper for every recording
// command (on_record), one for a CSV file of rows (import_csv).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "tools/cli/cli.h"
#include "tools/cli/csv.h"

namespace leanos::cli {

// --at and --id, on every command that records something; --encoding on those that read a file.
struct Recorded {
  std::string at;
  std::string id;
  std::string corrects;  // --corrects EVENT_ID: a correction of the recorded fact (deal facts)
  std::string encoding = "utf-8";
};

void add_encoding(CLI::App* sub, Recorded& r);
void add_recorded(CLI::App* sub, Recorded& r);
// --corrects, on the commands whose fact a correction may replace (a deal's stages).
void add_corrects(CLI::App* sub, Recorded& r);

// The command envelope: the payload dated --at (default now), id --id (default a new one),
// by --actor.
Result<Envelope> command_of(const GlobalOptions& g, const google::protobuf::Message& payload, const Recorded& r);
// Records several commands, stopping at the first rejection; prints what each recorded.
int submit_all(const GlobalOptions& g, const std::vector<Envelope>& commands);
int submit(const GlobalOptions& g, const google::protobuf::Message& payload, const Recorded& r);

// The one shape of a recording command: its arguments (with --at and --id), a build step
// that turns them into the payload or says what is wrong, and the recording through the
// rules. `build` takes the parsed arguments and returns Result<payload>.
template <class Args, class Build>
void on_record(CLI::App* s, GlobalOptions& g, Action& action, std::shared_ptr<Args> a, Build build) {
  add_recorded(s, a->r);
  s->callback([&g, &action, a, build] {
    action = [&g, a, build]() -> int {
      auto payload = build(*a);
      if (!payload) return fail(payload.status());
      return submit(g, *payload, a->r);
    };
  });
}

// One command per CSV row (`columns` named `names`; "(optional)" ones may be empty), its
// payload built by `build(row, path)`; recorded as one batch through the campaign's actor (or
// the server), so a bad row rejects the whole file. Without --id, ids derive from the path,
// the row and its content: the same file again records nothing.
using RowPayload = Result<std::unique_ptr<google::protobuf::Message>>;
int record_csv(const GlobalOptions& g, const std::string& path, const Recorded& r, std::size_t columns,
               const std::vector<std::string>& names, const std::function<RowPayload(const CsvRow&, const std::string&)>& build);
template <class Build>
int import_csv(const GlobalOptions& g, const std::string& path, const Recorded& r, std::size_t columns,
               const std::vector<std::string>& names, Build build) {
  return record_csv(g, path, r, columns, names, [&build](const CsvRow& row, const std::string& p) -> RowPayload {
    auto payload = build(row, p);
    if (!payload) return payload.status();
    using Payload = std::decay_t<decltype(*payload)>;
    return std::unique_ptr<google::protobuf::Message>(new Payload(std::move(*payload)));
  });
}

// The commands of each part of the workflow.
void add_workspace_commands(CLI::App& app, GlobalOptions& g, Action& action);  // goal, canvas, config, analysis
void add_segment_commands(CLI::App& app, GlobalOptions& g, Action& action);
void add_deal_commands(CLI::App& app, GlobalOptions& g, Action& action);
void add_campaign_commands(CLI::App& app, GlobalOptions& g, Action& action);

}  // namespace leanos::cli
