// What the store's own suites (store_test, corruption_test) build their cases from: a generic
// event, and a store opened in a folder (the test fails, saying why, if it does not open).
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "store/event_store.h"

namespace leanos::test {

inline store::Envelope event(const std::string& type, const std::string& id = "", const std::string& blob = "x") {
  store::Envelope e;
  e.set_type(type);
  e.set_event_id(id);
  e.mutable_generic()->set_blob(blob);
  return e;
}

inline std::unique_ptr<store::EventStore> open_store(const std::string& dir) {
  auto s = store::EventStore::open(dir);
  REQUIRE_MESSAGE(s.is_ok(), (s.is_ok() ? "" : s.status().to_string()));
  return std::move(*s);
}

}  // namespace leanos::test
