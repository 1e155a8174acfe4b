// The sales workflow's commands: goal, canvas, config, analysis (workspace_commands.cpp),
// segment, deal and campaign (one file each). Each builds a command payload; the rules,
// through the actors, decide and record (recording.h).
#include "tools/cli/recording.h"

namespace leanos::cli {

void add_domain_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  add_workspace_commands(app, global, action);
  add_segment_commands(app, global, action);
  add_deal_commands(app, global, action);
  add_campaign_commands(app, global, action);
}

}  // namespace leanos::cli
