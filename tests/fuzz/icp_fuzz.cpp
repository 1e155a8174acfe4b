// ICP files (YAML or JSON) from segment icp --file: any text gives an IcpDefined that the store
// accepts, or an error; never a crash, an exception or an expansion without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "events/domain.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/cli/icp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto icp = leanos::cli::parse_icp(text, "icp.yaml", "fintech");
  if (!icp) return 0;
  leanos::fuzz::storable_reads_back(leanos::make_event(*icp, 1'700'000'000'000'000));
  return 0;
}
