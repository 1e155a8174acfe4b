// The goals' fold (projections/ledger.cpp's apply): goals and subgoals defined, won deals
// counted toward them at their dates, milestones and the target met; a corrected close taken
// back and counted again. For projections/ only.
#pragma once

#include <cstdint>
#include <string>

#include "projections/ledger.h"

namespace leanos::projections {

// `replaced`: for a corrected close (Envelope.corrects_event_id), the close it replaces.
void fold_goal(LedgerView& v, const Envelope& e, std::int64_t at, const v1::DealClosed* replaced);

// The close a correction replaces, as its deal holds it before the correction is folded.
v1::DealClosed close_in_force(const LedgerView& v, const std::string& deal_id);

}  // namespace leanos::projections
