// The rules of the six-stage flow, each from both sides, as pure functions: a deal thread.
#include <doctest/doctest.h>

#include "actors/commands.h"
#include "events/ids.h"
#include "events/rules.h"
#include "tests/rules_support.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::rules_test;

TEST_CASE("a lead opens a deal once, a second open of the same id is refused") {
  DealState s;
  CHECK(step(s, lead()).is_ok());
  auto again = step(s, lead());
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == Code::already_exists);
}

TEST_CASE("a lead needs a company, a contact email and a known goal and subgoal") {
  DealState s;
  auto l = lead();
  l.mutable_contact()->set_email("not-an-email");
  CHECK(step(s, l).status().code() == Code::invalid_argument);
  l = lead();
  l.set_goal_id("g-unknown");
  CHECK(step(s, l).status().code() == Code::not_found);
  l = lead();
  l.set_goal_id("g-mrr-50k");
  l.set_subgoal_id("SG9");
  CHECK(step(s, l).status().message().find("SG9") != std::string::npos);
  l.set_subgoal_id("SG1");
  CHECK(step(s, l).is_ok());
}

TEST_CASE("a command on an unknown deal says how to open it, in the domain's words") {
  DealState s;
  auto r = step(s, hypothesis());
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::not_found);
  CHECK(r.status().hint() == "open it first (LeadCaptured for deal acme)");  // the CLI says which command (tools/cli/hints.cpp)
}

TEST_CASE("a hypothesis must test an assumption registered in the canvas") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  auto r = step(s, hypothesis("A9"));
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::not_found);
  CHECK(r.status().message().find("known: A4") != std::string::npos);
  CHECK(step(s, hypothesis("A4")).is_ok());
  CHECK(s.hypothesis->segment() == "enterprise");  // taken from the lead
}

TEST_CASE("confidence is a percent: 140 is refused, 100 accepted") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  auto r = step(s, hypothesis("A4", 140));
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("0 to 100") != std::string::npos);
  CHECK(step(s, hypothesis("A4", 100)).is_ok());
}

TEST_CASE("stages are not skipped: no implication before the hypothesis, no decision before both") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  CHECK(step(s, implication()).status().code() == Code::failed_precondition);
  CHECK(step(s, decision(v1::QUALIFY)).status().code() == Code::failed_precondition);
  REQUIRE(step(s, hypothesis()).is_ok());
  auto no_impl = step(s, decision(v1::QUALIFY));
  CHECK(no_impl.status().message().find("implication") != std::string::npos);
  REQUIRE(step(s, implication()).is_ok());
  CHECK(step(s, decision(v1::QUALIFY)).is_ok());
}

TEST_CASE("an implication refuses negative ARR and a range upside down") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  REQUIRE(step(s, hypothesis()).is_ok());
  auto i = implication();
  i.set_arr_low(-1);
  CHECK(step(s, i).status().message().find("negative") != std::string::npos);
  i = implication();
  i.set_arr_high(1);
  CHECK(step(s, i).status().code() == Code::invalid_argument);
  i = implication();
  i.set_priority(1.5);
  CHECK(step(s, i).status().code() == Code::invalid_argument);
}

TEST_CASE("a wrong field is named as the payload names it, never by a CLI flag, with the field as a parameter") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  REQUIRE(step(s, hypothesis()).is_ok());
  auto i = implication();
  i.set_arr_high(1);
  const Status upside_down = step(s, i).status();
  CHECK(upside_down.code() == Code::invalid_argument);
  CHECK(upside_down.rule_id() == rule::kInvalidField);
  CHECK(upside_down.param("field") == "arr_high");
  CHECK(upside_down.param("other_field") == "arr_low");
  CHECK(upside_down.reason().find("arr_high 1 is below arr_low") != std::string::npos);
  // Each field check, in every kind of command: the parameter names a field the reason names,
  // and no reason speaks of flags or the CLI.
  DealState fresh;
  auto no_company = lead();
  no_company.set_company(" ");
  auto bad_email = lead();
  bad_email.mutable_contact()->set_email("jane");
  i = implication();
  i.set_priority(1.5);
  const std::vector<std::pair<Status, std::string>> cases = {
      {step(fresh, no_company).status(), "company"},
      {step(fresh, bad_email).status(), "contact.email"},
      {step(s, hypothesis("A4", 140)).status(), "confidence"},
      {step(s, i).status(), "priority"},
  };
  for (const auto& c : cases) {
    const Status& st = c.first;
    const std::string& field = c.second;
    CAPTURE(st.to_string());
    CHECK(st.rule_id() == rule::kInvalidField);
    CHECK(st.param("field") == field);
    CHECK(st.reason().find(field) != std::string::npos);
    CHECK(st.message().find("--") == std::string::npos);
    CHECK(st.message().find("leanos ") == std::string::npos);
  }
}

TEST_CASE("no action unless the decision is QUALIFY") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  CHECK(step(s, start("sales:qualify")).status().message().find("QUALIFY") != std::string::npos);
  REQUIRE(step(s, hypothesis()).is_ok());
  REQUIRE(step(s, implication()).is_ok());
  REQUIRE(step(s, decision(v1::DEFER)).is_ok());
  CHECK(step(s, start("sales:qualify")).status().code() == Code::failed_precondition);
  REQUIRE(step(s, decision(v1::QUALIFY)).is_ok());  // DEFER re-opened by a new decision
  CHECK(step(s, start("sales:lead-intake")).is_ok());
}

TEST_CASE("impact at the approval threshold needs a human approval before actions") {
  auto s = qualified(0.8);
  CHECK(s.decision->approval_required());
  auto blocked = step(s, start("sales:qualify"));
  CHECK(blocked.status().message().find("a human approves it (DecisionApproved") != std::string::npos);
  v1::DecisionApproved ok;
  ok.set_deal_id("acme");
  ok.set_approved_by("ceo");
  REQUIRE(step(s, ok).is_ok());
  CHECK(step(s, ok).status().code() == Code::failed_precondition);  // approved once
  CHECK(step(s, start("sales:lead-intake")).is_ok());

  auto below = qualified(0.79);
  CHECK_FALSE(below.decision->approval_required());
  CHECK(step(below, ok).status().code() == Code::failed_precondition);  // nothing to approve
  CHECK(step(below, start("sales:lead-intake")).is_ok());
}

TEST_CASE("the approval threshold is the workspace's setting") {
  DealState s;
  Facts f = facts();
  f.approval_threshold = 0.7;
  REQUIRE(step(s, lead(), 1, f).is_ok());
  REQUIRE(step(s, hypothesis(), 1, f).is_ok());
  REQUIRE(step(s, implication(), 1, f).is_ok());
  REQUIRE(step(s, decision(v1::QUALIFY, 0.75), 1, f).is_ok());
  CHECK(s.decision->approval_required());
  CHECK(s.decision->threshold() == doctest::Approx(0.7));
}

TEST_CASE("an action completes only after it started, with a result its type knows") {
  auto s = qualified();
  v1::ActionCompleted done;
  done.set_deal_id("acme");
  done.set_action("sales:demo");
  done.set_result("interested");
  CHECK(step(s, done).status().message().find("not in progress") != std::string::npos);
  run_up_to(s, "sales:demo");
  REQUIRE(step(s, start("sales:demo")).is_ok());
  CHECK(step(s, start("sales:demo")).status().code() == Code::failed_precondition);
  done.set_result("thrilled");
  CHECK(step(s, done).status().message().find("INTERESTED, NEEDS_REVISION, NOT_INTERESTED") != std::string::npos);
  done.set_result("needs-revision");
  REQUIRE(step(s, done).is_ok());
  CHECK(s.actions["sales:demo"].result == "NEEDS_REVISION");
  CHECK(step(s, start("sales:demo")).is_ok());  // a demo may be held again
}

TEST_CASE("sales:qualification is read as sales:qualify, unknown action types are refused") {
  auto s = qualified();
  run_up_to(s, "sales:qualify");
  REQUIRE(step(s, start("sales:qualification")).is_ok());
  CHECK(s.actions.count("sales:qualify") == 1);
  CHECK(step(s, start("sales:dance")).status().code() == Code::invalid_argument);
}

TEST_CASE("a blocked action blocks the thread until unblocked") {
  auto s = qualified();
  run_up_to(s, "sales:pilot");
  REQUIRE(step(s, start("sales:pilot")).is_ok());
  v1::ActionBlocked b;
  b.set_deal_id("acme");
  b.set_action("sales:pilot");
  b.set_reason("legal review");
  REQUIRE(step(s, b).is_ok());
  CHECK(s.blocked());
  v1::ActionUnblocked u;
  u.set_deal_id("acme");
  u.set_action("sales:pilot");
  REQUIRE(step(s, u).is_ok());
  CHECK_FALSE(s.blocked());
  CHECK(step(s, u).status().code() == Code::failed_precondition);
}

TEST_CASE("no outcome before a decision, REJECT ends the thread") {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  CHECK(step(s, closed(v1::LOST)).status().message().find("no decision") != std::string::npos);
  REQUIRE(step(s, hypothesis()).is_ok());
  REQUIRE(step(s, implication()).is_ok());
  REQUIRE(step(s, decision(v1::REJECT)).is_ok());
  auto after = step(s, closed(v1::LOST));
  REQUIRE_FALSE(after.is_ok());
  CHECK(after.status().message().find("REJECT ends the thread") != std::string::npos);
  CHECK(step(s, decision(v1::QUALIFY)).status().code() == Code::failed_precondition);
}

TEST_CASE("a won deal needs its value, negative ARR is refused, MRR defaults to ARR / 12") {
  auto s = qualified();
  CHECK(step(s, closed(v1::WON, 0)).status().message().find("a won deal needs its value: ARR") != std::string::npos);
  CHECK(step(s, closed(v1::WON, -100)).status().message().find("negative") != std::string::npos);
  REQUIRE(step(s, closed(v1::WON, 1100000), 47).is_ok());
  CHECK(s.outcome->mrr() == 91666);
  CHECK(s.outcome->cycle_days() == 46);
}

TEST_CASE("cycle time is derived, never typed in") {
  auto s = qualified();
  auto c = closed(v1::WON, 1200);
  c.set_cycle_days(3);
  CHECK(step(s, c).status().message().find("derived") != std::string::npos);
}

TEST_CASE("an outcome's segment, goal and campaign are the lead's: one that differs is refused, not replaced silently") {
  auto s = qualified();
  auto c = closed(v1::WON, 1200);
  c.set_segment("smb");  // the lead says enterprise
  CHECK(step(s, c).status().message().find("an outcome's segment is the deal's own, from its lead ('enterprise')") != std::string::npos);
  c.set_segment("enterprise");  // the same: no contradiction
  REQUIRE(step(s, c).is_ok());
  CHECK(s.outcome->segment() == "enterprise");
}

TEST_CASE("a closed thread accepts only learning, a stalled one can still be won") {
  auto s = qualified();
  REQUIRE(step(s, closed(v1::STALLED), 20).is_ok());
  REQUIRE(step(s, closed(v1::WON, 1200), 30).is_ok());
  CHECK(step(s, closed(v1::LOST)).status().message().find("accepts only learning") != std::string::npos);
  CHECK(step(s, start("sales:close")).status().code() == Code::failed_precondition);
  v1::LearningRecorded l;
  l.set_deal_id("acme");
  l.set_result(v1::VALIDATED);
  l.set_confidence(95);
  REQUIRE(step(s, l).is_ok());
  CHECK(s.learnings.back().assumption_id() == "A4");  // the hypothesis' assumption
}

TEST_CASE("learning follows an outcome, names a known assumption, and invalidated means 0 %") {
  auto s = qualified();
  v1::LearningRecorded l;
  l.set_deal_id("acme");
  l.set_assumption_id("A4");
  l.set_result(v1::INVALIDATED);
  CHECK(step(s, l).status().message().find("no outcome") != std::string::npos);
  REQUIRE(step(s, closed(v1::LOST), 10).is_ok());
  l.set_assumption_id("A7");
  CHECK(step(s, l).status().code() == Code::not_found);
  l.set_assumption_id("A4");
  l.set_confidence(30);
  CHECK(step(s, l).status().code() == Code::invalid_argument);
  l.clear_confidence();
  REQUIRE(step(s, l).is_ok());
  CHECK(s.learnings.back().confidence() == 0);
}

TEST_CASE("one learning per deal and assumption: the same again decides nothing, another corrects it at its date") {
  auto s = qualified();
  REQUIRE(step(s, closed(v1::WON, 1200), 20).is_ok());
  v1::LearningRecorded l;
  l.set_deal_id("acme");
  l.set_result(v1::VALIDATED);
  l.set_evidence("chose white-label");
  REQUIRE(step(s, l, 21).is_ok());
  const std::string first = s.learning_event_ids.at(0);
  // The same learning, typed again on another day: no event.
  auto again = step(s, l, 25);
  REQUIRE(again.is_ok());
  CHECK(again->empty());
  l.set_assumption_id("A4");  // the hypothesis' assumption named: still the same fact
  CHECK(step(s, l, 26)->empty());
  // A client cannot claim to correct: the rules fill that in.
  v1::LearningRecorded forged = l;
  forged.set_result(v1::PARTIAL);
  forged.set_corrects_event_id("x");
  CHECK(step(s, forged, 26).status().code() == Code::invalid_argument);
  // Another result: a correction of the first, dated at it.
  l.set_result(v1::PARTIAL);
  auto fix = step(s, l, 30);
  REQUIRE(fix.is_ok());
  REQUIRE(fix->size() == 1);
  const auto& e = fix->front();
  CHECK(e.learning_recorded().corrects_event_id() == first);
  CHECK(e.learning_recorded().corrected_result() == v1::VALIDATED);
  CHECK(from_timestamp(e.occurred_at()) == day(21));
  REQUIRE(s.learnings.size() == 1);  // the one in force
  CHECK(s.learnings[0].result() == v1::PARTIAL);
  CHECK(s.corrections == 1);
}

TEST_CASE("qualification score: weights and the 0.8 and 0.5 boundaries are exact") {
  CHECK(score_qualification(0.8, 0.8, 0.8, 0.8, 0.8)->verdict == v1::QUALIFIED);
  CHECK(score_qualification(0.8, 0.8, 0.8, 0.8, 0.8)->total == doctest::Approx(0.8));
  CHECK(score_qualification(0.8, 0.8, 0.8, 0.8, 0.799)->verdict == v1::MAYBE);
  CHECK(score_qualification(0.5, 0.5, 0.5, 0.5, 0.5)->verdict == v1::MAYBE);
  CHECK(score_qualification(0.5, 0.5, 0.5, 0.5, 0.499)->verdict == v1::DISQUALIFIED);
  CHECK(score_qualification(1, 0, 0, 0, 0)->total == doctest::Approx(0.30));
  CHECK(score_qualification(0, 1, 1, 0, 0)->total == doctest::Approx(0.40));
  CHECK(score_qualification(0, 0, 0, 1, 1)->total == doctest::Approx(0.30));
  CHECK_FALSE(score_qualification(1.2, 0, 0, 0, 0).is_ok());
}

TEST_CASE("a disqualifying score closes the deal lost, reason disqualified, with a derived id") {
  auto s = qualified();
  run_up_to(s, "sales:qualify");
  REQUIRE(step(s, start("sales:qualify")).is_ok());
  v1::QualificationScored q;
  q.set_deal_id("acme");
  q.set_problem(0.2);
  auto r = step(s, q, 5);
  REQUIRE(r.is_ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[1].deal_closed().reason() == "disqualified");
  CHECK((*r)[1].causation_id() == (*r)[0].event_id());
  CHECK(s.outcome->outcome() == v1::LOST);
  CHECK(s.outcome->cycle_days() == 4);
}

TEST_CASE("a rejected command appends nothing to the store") {
  test::TempDir dir;
  auto opened = store::EventStore::open(dir.path());
  REQUIRE(opened.is_ok());
  CommandHandler handler(**opened);
  v1::AssumptionRegistered a;
  a.set_assumption_id("A4");
  a.set_statement("Enterprise customers prefer white-label");
  a.set_confidence(60);
  REQUIRE(handler.handle(cmd(a)).is_ok());
  REQUIRE(handler.handle(cmd(lead())).is_ok());
  const auto before = (*opened)->last_position();
  CHECK_FALSE(handler.handle(cmd(hypothesis("A9"))).is_ok());
  CHECK_FALSE(handler.handle(cmd(decision(v1::QUALIFY))).is_ok());
  CHECK_FALSE(handler.handle(cmd(closed(v1::WON, -5))).is_ok());
  CHECK_FALSE(handler.handle(cmd(lead())).is_ok());
  CHECK((*opened)->last_position() == before);
  CHECK((*opened)->verify().clean());
}

TEST_CASE("a command retried with the same id is recorded once") {
  test::TempDir dir;
  auto opened = store::EventStore::open(dir.path());
  REQUIRE(opened.is_ok());
  CommandHandler handler(**opened);
  auto c = cmd(lead());
  auto first = handler.handle(c);
  auto again = handler.handle(c);
  REQUIRE(first.is_ok());
  REQUIRE(again.is_ok());
  CHECK(again->idempotent_retry);
  CHECK(again->events.front().position() == first->events.front().position());
  CHECK((*opened)->last_position() == 1);
}

TEST_CASE("stage 5 runs in LeanOS's order: each action starts only when the last result leads to it") {
  auto s = qualified();
  // Nothing before lead intake (a campaign's deal aside).
  auto early = step(s, start("sales:demo"));
  REQUIRE_FALSE(early.is_ok());
  CHECK(early.status().code() == Code::failed_precondition);
  CHECK(early.status().message().find("sales:demo cannot start now: it follows sales:qualify QUALIFIED") != std::string::npos);
  CHECK(early.status().message().find("start sales:lead-intake instead") != std::string::npos);
  CHECK(step(s, start("sales:qualify")).status().code() == Code::failed_precondition);
  REQUIRE(step(s, start("sales:lead-intake")).is_ok());
  // One action at a time.
  CHECK(step(s, start("sales:qualify")).status().message().find("while sales:lead-intake is in_progress") != std::string::npos);
  REQUIRE(step(s, done("sales:lead-intake", "READY_FOR_QUALIFICATION")).is_ok());
  REQUIRE(step(s, start("sales:qualify")).is_ok());
  REQUIRE(step(s, done("sales:qualify", "MAYBE")).is_ok());
  // MAYBE: qualify again, not a demo.
  CHECK(step(s, start("sales:demo")).status().message().find("the last completed action is sales:qualify (MAYBE)") != std::string::npos);
  REQUIRE(step(s, start("sales:qualify")).is_ok());
  REQUIRE(step(s, done("sales:qualify", "QUALIFIED")).is_ok());
  CHECK(step(s, start("sales:pilot")).status().code() == Code::failed_precondition);
  REQUIRE(step(s, start("sales:demo")).is_ok());
  REQUIRE(step(s, done("sales:demo", "NEEDS_REVISION")).is_ok());
  CHECK(step(s, start("sales:close")).status().code() == Code::failed_precondition);
  REQUIRE(step(s, start("sales:demo")).is_ok());  // NEEDS_REVISION: demo again
  REQUIRE(step(s, done("sales:demo", "INTERESTED")).is_ok());
  // INTERESTED: a pilot, or straight to close.
  DealState straight = s;
  CHECK(step(straight, start("sales:close")).is_ok());
  REQUIRE(step(s, start("sales:pilot")).is_ok());
  REQUIRE(step(s, done("sales:pilot", "FAILED")).is_ok());
  CHECK(step(s, start("sales:close")).status().message().find("no action can start") != std::string::npos);
}

TEST_CASE("a campaign's deal starts at qualify") {
  DealState s;
  auto l = lead();
  l.set_source(v1::CAMPAIGN);
  REQUIRE(step(s, l).is_ok());
  REQUIRE(step(s, hypothesis()).is_ok());
  REQUIRE(step(s, implication()).is_ok());
  REQUIRE(step(s, decision(v1::QUALIFY, 0.5), 2).is_ok());
  CHECK(step(s, start("sales:qualify")).is_ok());
}

TEST_CASE("nothing closes while an action runs, and an outcome may not contradict the last completed action") {
  auto s = qualified();
  run_up_to(s, "sales:pilot");
  REQUIRE(step(s, start("sales:pilot")).is_ok());
  auto running = step(s, closed(v1::WON, 120000));
  REQUIRE_FALSE(running.is_ok());
  CHECK(running.status().code() == Code::failed_precondition);
  CHECK(running.status().message().find("sales:pilot is in progress") != std::string::npos);
  CHECK(step(s, closed(v1::STALLED)).status().code() == Code::failed_precondition);
  REQUIRE(step(s, done("sales:pilot", "FAILED")).is_ok());
  auto contradicted = step(s, closed(v1::WON, 120000));
  REQUIRE_FALSE(contradicted.is_ok());
  CHECK(contradicted.status().message().find("sales:pilot completed FAILED, so the deal cannot be closed won") != std::string::npos);
  CHECK(step(s, closed(v1::LOST)).is_ok());

  auto won = qualified();
  run_up_to(won, "sales:close");
  REQUIRE(step(won, start("sales:close")).is_ok());
  REQUIRE(step(won, done("sales:close", "WON")).is_ok());
  CHECK(step(won, closed(v1::LOST)).status().message().find("sales:close completed WON") != std::string::npos);
  CHECK(step(won, closed(v1::WON, 120000)).is_ok());

  // Closing without a close action stays allowed.
  auto direct = qualified();
  CHECK(step(direct, closed(v1::WON, 120000)).is_ok());
}

TEST_CASE("the action catalogue decides who runs an action: a client may ask for a person, never waive one") {
  auto s = qualified();
  auto plan = [&](const std::string& action, bool human) {
    v1::ActionPlanned p;
    p.set_deal_id("acme");
    p.set_action(action);
    p.set_human_required(human);
    auto r = step(s, p);
    REQUIRE(r.is_ok());
    return r->front().action_planned().human_required();
  };
  // A gRPC client that leaves the flag unset still plans a demo that only a person runs.
  CHECK(plan("sales:demo", false));
  CHECK(plan("sales:pilot", true));
  // Lead intake is the agent's, unless someone asks for a person.
  CHECK_FALSE(plan("sales:lead-intake", false));
  CHECK(plan("sales:lead-intake", true));
  CHECK(s.actions.at("sales:demo").status == v1::ACTION_PLANNED);
  CHECK(s.actions.at("sales:demo").human_required);
}
