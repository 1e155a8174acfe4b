// What every fuzz target asserts beyond "no crash, no leak, no undefined behaviour": an event
// the store would accept reads back, and no string that is not UTF-8 gets that far.
#pragma once

#include <cstdlib>
#include <cstdio>

#include "events/text.h"
#include "store/event_store.h"

namespace leanos::fuzz {

// Aborts (a finding) when `e` passes the store's checks but would not read back.
inline void storable_reads_back(v1::Envelope e) {
  if (!store::check_storable(e).is_ok()) return;
  if (invalid_utf8_field(e)) {
    std::fprintf(stderr, "check_storable accepted a string that is not UTF-8\n");
    std::abort();
  }
  e.set_position(1);
  std::string bytes;
  if (!e.SerializeToString(&bytes)) std::abort();
  v1::Envelope back;
  if (!back.ParseFromString(bytes)) {
    std::fprintf(stderr, "a storable event does not read back\n");
    std::abort();
  }
}

}  // namespace leanos::fuzz
