// Given / when / then for the rules and the folds, in process: given events already recorded
// (no rules ask about them), when a command goes through the rules (the CommandHandler that
// every surface's Ledger::submit uses), then the events it recorded, or the rule that refused
// it and nothing recorded; and the views the folds give over all of it (the query layer).
//
//   Scenario s;
//   s.given(lead_captured("acme"), "2026-01-10")
//    .when(hypothesis, "2026-01-11")
//    .then_refused(rule::kUnknownAssumption, {{"assumption_id", "A9"}});
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "actors/queries.h"
#include "events/rules.h"
#include "tests/builders.h"
#include "tests/support.h"

namespace leanos::test {

class Scenario {
 public:
  Scenario() {
    store::StoreOptions o;
    o.master_key_file = dir_.sub("master-key");
    auto opened = store::EventStore::open(dir_.sub("data"), o);
    REQUIRE_MESSAGE(opened.is_ok(), (opened.is_ok() ? "" : opened.status().to_string()));
    store_ = std::move(*opened);
    handler_ = std::make_unique<CommandHandler>(*store_);
  }

  // Given: an event already recorded, in the stream its command would go to; no rule is asked.
  Scenario& given(const google::protobuf::Message& payload, const std::string& at) {
    const Envelope e = command(payload, at, new_event_id());
    auto r = store_->append(stream_of_command(e), store::ExpectedVersion::any(), {e});
    REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
    last_given_ = e.event_id();
    return *this;
  }
  // The id of the event the last given recorded (what a correction names).
  const std::string& given_id() const { return last_given_; }

  // When: a correction of the recorded event `corrects` (Envelope.corrects_event_id), through
  // the rules; it is dated by them, where the fact it replaces stands.
  Scenario& when_correcting(const google::protobuf::Message& payload, const std::string& corrects) {
    before_ = store_->last_position();
    Envelope c = command(payload, "2026-12-01", new_event_id());
    c.set_actor("tester");
    c.set_corrects_event_id(corrects);
    result_ = std::make_unique<Result<Handled>>(handler_->handle(std::move(c)));
    return *this;
  }
  // The events the last command recorded (REQUIRES: it was accepted).
  const std::vector<Envelope>& recorded() const { return (*result_)->events; }

  // When: a command through the rules, against all that was given and recorded before it.
  Scenario& when(const google::protobuf::Message& payload, const std::string& at) {
    before_ = store_->last_position();
    Envelope c = command(payload, at, new_event_id());
    c.set_actor("tester");
    result_ = std::make_unique<Result<Handled>>(handler_->handle(std::move(c)));
    return *this;
  }

  // Then: the command was accepted and recorded these event types, in order.
  Scenario& then_recorded(const std::vector<std::string>& types) {
    REQUIRE_MESSAGE(result_, "then_recorded without a when");
    REQUIRE_MESSAGE(result_->is_ok(), (result_->is_ok() ? "" : result_->status().to_string()));
    std::vector<std::string> recorded;
    for (const auto& e : (*result_)->events) recorded.push_back(e.type());
    CHECK(recorded == types);
    return *this;
  }

  // Then: the rule `rule_id` refused it (with at least these parameters), and nothing was recorded.
  Scenario& then_refused(const std::string& rule_id, const Status::Params& params = {}) {
    REQUIRE_MESSAGE(result_, "then_refused without a when");
    REQUIRE_FALSE(result_->is_ok());
    const Status& s = result_->status();
    INFO(s.to_string());
    CHECK(s.rule_id() == rule_id);
    for (const auto& param : params) CHECK_MESSAGE(s.param(param.first) == param.second, param.first);
    CHECK(store_->last_position() == before_);
    return *this;
  }

  // Then: nothing new was recorded; the command was answered by what the ledger holds (a
  // retry, a fact already there) with events of these types.
  Scenario& then_already_recorded(const std::vector<std::string>& types) {
    REQUIRE_MESSAGE(result_, "then_already_recorded without a when");
    REQUIRE_MESSAGE(result_->is_ok(), (result_->is_ok() ? "" : result_->status().to_string()));
    CHECK((*result_)->idempotent_retry);
    std::vector<std::string> answered;
    for (const auto& e : (*result_)->events) answered.push_back(e.type());
    CHECK(answered == types);
    CHECK(store_->last_position() == before_);
    return *this;
  }

  // The refusal of the last command (REQUIRES: it was refused).
  const Status& refusal() const { return result_->status(); }

  // A view as the folds give it over all that was recorded, read at `now`.
  v1::QueryReply view(const v1::QueryRequest& query, const std::string& now = "2026-12-31") {
    auto r = answer_query(*store_, query, parse_time(now).value());
    REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
    return *r;
  }

  store::EventStore& store() { return *store_; }

 private:
  TempDir dir_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<CommandHandler> handler_;
  std::unique_ptr<Result<Handled>> result_;
  std::uint64_t before_ = 0;
  std::string last_given_;
};

}  // namespace leanos::test
