// The rules of what a workspace holds besides its deal threads, as pure functions: goals,
// subgoals and assumptions, segment artifacts, campaigns, documents.
#include <doctest/doctest.h>

#include "actors/commands.h"
#include "events/ids.h"
#include "events/rules.h"
#include "tests/rules_support.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::rules_test;

TEST_CASE("goals, subgoals and assumptions are defined once and checked") {
  Facts f = facts();
  v1::GoalDefined g;
  g.set_goal_id("g-mrr-50k");
  g.set_title("Reach $50K MRR by Q2");
  g.set_metric(v1::MRR);
  g.set_target(50000);
  CHECK(decide_workspace(cmd(g), f).status().code() == Code::already_exists);
  g.set_goal_id("g-new");
  CHECK(decide_workspace(cmd(g), f).is_ok());
  g.set_target(0);
  CHECK(decide_workspace(cmd(g), f).status().code() == Code::invalid_argument);
  v1::SubgoalDefined sg;
  sg.set_goal_id("g-none");
  sg.set_subgoal_id("SG1");
  sg.set_title("t");
  sg.set_target(3);
  CHECK(decide_workspace(cmd(sg), f).status().code() == Code::not_found);
  sg.set_goal_id("g-mrr-50k");
  CHECK(decide_workspace(cmd(sg), f).status().code() == Code::already_exists);
  sg.set_subgoal_id("SG2");
  CHECK(decide_workspace(cmd(sg), f).is_ok());
  v1::AssumptionRegistered a;
  a.set_assumption_id("A4");
  a.set_statement("s");
  a.set_confidence(60);
  CHECK(decide_workspace(cmd(a), f).status().code() == Code::already_exists);
  a.set_assumption_id("A5");
  CHECK(decide_workspace(cmd(a), f).is_ok());
  a.set_confidence(101);
  CHECK(decide_workspace(cmd(a), f).status().code() == Code::invalid_argument);
}

TEST_CASE("segment artifacts get versions, an ICP needs 5 to 10 sample companies") {
  SegmentState s;
  v1::IcpDefined icp;
  icp.set_segment("enterprise");
  icp.mutable_filters()->add_industry("fintech");
  icp.set_qualification_score(0.85);
  for (int i = 0; i < 4; ++i) icp.add_sample_companies("c" + std::to_string(i));
  CHECK(decide_segment(s, cmd(icp)).status().message().find("5 to 10") != std::string::npos);
  icp.add_sample_companies("c5");
  auto r = decide_segment(s, cmd(icp));
  REQUIRE(r.is_ok());
  CHECK((*r)[0].icp_defined().version() == 1);
  apply(s, (*r)[0]);
  CHECK(decide_segment(s, cmd(icp))->front().icp_defined().version() == 2);
}

TEST_CASE("a campaign's actions need LAUNCH, CANCEL ends it") {
  CampaignState s;
  Facts f = facts();
  auto run = [&](const google::protobuf::Message& p) {
    auto r = decide_campaign(s, cmd(p), f);
    if (r)
      for (const auto& e : *r) apply(s, e);
    return r;
  };
  v1::CampaignOpened o;
  o.set_campaign_id("fintech");
  o.set_segment("fintech");
  o.set_objective("20 meetings");
  CHECK(run(o).status().message().find("YYYY-MM-DD") != std::string::npos);
  o.set_campaign_id("2026-02-01-fintech");
  REQUIRE(run(o).is_ok());
  v1::ProspectAdded p;
  p.set_campaign_id("2026-02-01-fintech");
  p.set_company("Beta");
  CHECK(run(p).status().message().find("LAUNCH") != std::string::npos);
  v1::CampaignHypothesisStated h;
  h.set_campaign_id("2026-02-01-fintech");
  h.set_assumption_id("A4");
  h.set_confidence(50);
  REQUIRE(run(h).is_ok());
  v1::CampaignImplicationAssessed i;
  i.set_campaign_id("2026-02-01-fintech");
  i.set_expected_deals(2);
  REQUIRE(run(i).is_ok());
  v1::CampaignDecisionMade d;
  d.set_campaign_id("2026-02-01-fintech");
  d.set_verdict(v1::LAUNCH);
  d.set_reason("go");
  REQUIRE(run(d).is_ok());
  CHECK(run(p).is_ok());
  d.set_verdict(v1::CANCEL);
  REQUIRE(run(d).is_ok());
  CHECK(run(p).status().message().find("cancelled") != std::string::npos);
}

TEST_CASE("a document's path stays inside the workspace and its text within one event") {
  DocumentsState f;
  auto doc = [](const std::string& path, std::size_t bytes = 10) {
    v1::DocumentWritten d;
    d.set_path(path);
    d.set_content(std::string(bytes, 'x'));
    return cmd(d);
  };
  CHECK(decide_document(f, doc("strategy/canvas/07-uvp.md")).is_ok());
  CHECK(decide_document(f, doc("research/icp/enterprise.yaml")).is_ok());
  for (const char* bad : {"", "/etc/passwd", "../outside.md", "a/../../b.md", "a//b.md", "./a.md", ".git/config", "a/.hidden/b.md",
                          "folder/", "back\\slash.md", "tab\there.md"}) {
    auto r = decide_document(f, doc(bad));
    CHECK_MESSAGE(r.status().code() == Code::invalid_argument, bad);
    CHECK(r.status().message().find("workspace-relative path") != std::string::npos);
  }
  auto big = decide_document(f, doc("notes.md", kMaxDocumentBytes + 1));
  CHECK(big.status().code() == Code::invalid_argument);
  CHECK(big.status().message().find("at most 524288 bytes") != std::string::npos);
  CHECK(decide_document(f, doc("notes.md", kMaxDocumentBytes)).is_ok());
}

namespace {

// A version of the UVP document dated `at`: its text, or the files layer's content it names.
Envelope uvp_version(const std::string& text, const std::string& at, bool removed = false, const std::string& content_sha256 = "") {
  v1::DocumentWritten d;
  d.set_path("strategy/canvas/07-uvp.md");
  d.set_content(text);
  d.set_removed(removed);
  d.set_content_sha256(content_sha256);
  auto c = cmd(d);
  to_timestamp(parse_time(at).value(), c.mutable_occurred_at());
  return c;
}

}  // namespace

TEST_CASE("a document's version: the same text records nothing, an earlier date is refused, a removal only of what is in force") {
  DocumentsState s;
  const auto doc = [](const std::string& text, const std::string& at, bool removed = false) { return uvp_version(text, at, removed); };
  auto first = decide_document(s, doc("v1", "2026-02-01"));
  REQUIRE(first.is_ok());
  REQUIRE(first->size() == 1);
  CHECK(decide_document(s, doc("", "2026-02-01", true)).status().rule_id() == rule::kDocumentNotInForce);  // nothing to remove
  Envelope recorded = first->front();
  recorded.set_version(1);
  apply(s, recorded);
  CHECK(decide_document(s, doc("v1", "2026-03-01"))->empty());  // the text in force: nothing new
  CHECK(decide_document(s, doc("v2", "2026-03-01"))->size() == 1);
  auto early = decide_document(s, doc("v2", "2026-01-15"));
  REQUIRE(!early.is_ok());
  CHECK(early.status().rule_id() == rule::kDocumentOutOfOrder);
  CHECK(early.status().param("path") == "strategy/canvas/07-uvp.md");
  CHECK(early.status().param("in_force_at") == "2026-02-01T00:00:00Z");
  CHECK(decide_document(s, doc("", "2026-03-01", true))->size() == 1);  // a removal of what is in force
}

TEST_CASE("a document's version may name its text by the files layer's content: only a content the store holds, one way of giving it, the same text in either form") {
  const std::string text = "White-label in a week.\n";
  const std::string sha = sha256_hex(text);
  const auto doc = [](const std::string& content, const std::string& content_sha256, const std::string& at) {
    return uvp_version(content, at, false, content_sha256);
  };
  DocumentsState s;
  auto unknown = decide_document(s, doc("", sha, "2026-02-01"), false);
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.status().rule_id() == rule::kDocumentContentUnknown);
  CHECK(unknown.status().param("content_sha256") == sha);
  for (const auto& [content, digest] : {std::pair<std::string, std::string>{text, sha},  // twice
                                        {"", "ABC"},                                     // no digest
                                        {"", std::string(64, 'A')}}) {                   // upper case
    auto refused = decide_document(s, doc(content, digest, "2026-02-01"), true);
    CHECK(refused.status().code() == Code::invalid_argument);
    CHECK(refused.status().rule_id() == rule::kInvalidField);
    CHECK(refused.status().param("field") == "content_sha256");
  }
  auto first = decide_document(s, doc("", sha, "2026-02-01"), true);
  REQUIRE(first.is_ok());
  REQUIRE(first->size() == 1);
  Envelope recorded = first->front();
  recorded.set_version(1);
  apply(s, recorded);
  CHECK(decide_document(s, doc(text, "", "2026-03-01"), false)->empty());  // the same text, given inline: nothing new
  CHECK(decide_document(s, doc("", sha, "2026-03-01"), true)->empty());
  CHECK(decide_document(s, doc("", sha256_hex("other"), "2026-03-01"), true)->size() == 1);
  DocumentsState inline_first;
  auto inline_version = decide_document(inline_first, doc(text, "", "2026-02-01"));
  REQUIRE(inline_version.is_ok());
  Envelope e = inline_version->front();
  e.set_version(1);
  apply(inline_first, e);
  CHECK(decide_document(inline_first, doc("", sha, "2026-03-01"), true)->empty());  // and the other way round
}
