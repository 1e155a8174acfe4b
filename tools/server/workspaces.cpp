#include "tools/server/workspaces.h"

namespace leanos::cli {

std::string workspace_token_file(const std::string& dir, const std::string& name) { return dir + "/" + name + ".token"; }

}  // namespace leanos::cli
