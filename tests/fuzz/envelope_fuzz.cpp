// The store's record decoder and its checks: arbitrary bytes as an Envelope (what a record,
// a snapshot's neighbour or a gRPC client can hand over), then the fold of that event.
#include <cstddef>
#include <cstdint>

#include "projections/ledger.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  leanos::v1::Envelope e;
  if (!e.ParseFromArray(data, static_cast<int>(size))) return 0;
  leanos::fuzz::storable_reads_back(e);
  if (leanos::store::check_storable(e).is_ok()) {
    auto view = leanos::projections::empty_ledger();
    leanos::projections::apply(view, e);
    leanos::projections::apply(view, e);  // the same event twice: folds must not trust uniqueness
    (void)leanos::projections::serialize(view);
  }
  return 0;
}
