// What to run next, in the CLI's words, for a rule's rejection. The rules (events/rules.cpp)
// give their reason and hint in the domain's words (the command to record: HypothesisStated,
// DealClosed, ...), which gRPC, HTTP and any other surface pass on as they are; the CLI says
// instead which `leanos` command records it, from the rule's id and parameters. The same
// words whether the rule refused here or on a server (--server): the id and parameters travel.
#pragma once

#include <string>

#include "events/result.h"

namespace leanos::cli {

// The CLI's hint for a rejection by a rule; "" when the CLI has none of its own (the
// domain's hint stands).
std::string cli_hint(const Status& status);

// The flag that sets a payload's field (rule::kInvalidField's `field`: arr_high -> --arr-high);
// "" when no flag does.
std::string cli_flag(const std::string& field);

// The status as the CLI says it: for a rule's rejection, its reason and the CLI's hint (else
// the domain's), a wrong field named by its flag; any other status as it is.
std::string cli_message(const Status& status);

}  // namespace leanos::cli
