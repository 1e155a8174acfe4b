// Protobuf JSON input (`leanos append --payload/--file`, every JSON a user hands the CLI).
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_support.h"
#include "tools/cli/cli.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  leanos::v1::Envelope e;
  if (leanos::cli::from_json(text, &e, "input").is_ok()) {
    leanos::fuzz::storable_reads_back(e);
    if (leanos::store::check_storable(e).is_ok() && leanos::cli::to_json(e).find("\"error\"") == 0) std::abort();
  }
  return 0;
}
