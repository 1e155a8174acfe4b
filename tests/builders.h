// Builders of commands for in-process tests: one complete, valid command of each kind the
// tests need, to be changed field by field where a test is about that field.
#pragma once

#include <string>

#include "events/domain.h"
#include "events/time.h"

namespace leanos::test {

// A command with this payload, dated `at` (an ISO-8601 date or date-time), with this id
// (none: the store gives it one).
inline Envelope command(const google::protobuf::Message& payload, const std::string& at, const std::string& id = "") {
  Envelope c = make_event(payload, parse_time(at).value());
  c.set_event_id(id);
  return c;
}

// Stage 1 of deal `id`: everything the rules ask of a lead (segment smb, outbound, a contact).
inline v1::LeadCaptured lead_captured(const std::string& id) {
  v1::LeadCaptured l;
  l.set_deal_id(id);
  l.set_company("Company " + id);
  l.set_segment("smb");
  l.set_source(v1::OUTBOUND);
  l.mutable_contact()->set_name("Contact");
  l.mutable_contact()->set_email("c@" + id + ".example");
  l.set_signal("reply");
  return l;
}

}  // namespace leanos::test
