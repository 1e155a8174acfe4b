#include "events/rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "events/ids.h"
#include "events/text.h"

#include <google/protobuf/util/message_differencer.h>

#include "events/rules_checks.h"

// The rules of a campaign thread (stages 1-6 of a marketing campaign, its contacts and
// outreach), and what a response causes. The deal rules: rules.cpp; the canvas, goals,
// settings and segments: rules_workspace.cpp.
namespace leanos {

using namespace rules_detail;

Result<Events> decide_campaign(const CampaignState& s, const Envelope& c, const Facts& facts) {
  if (const Micros at = from_timestamp(c.occurred_at()); s.exists() && !c.has_campaign_opened() && at < s.opened_at)
    return Status::invalid("campaign '" + s.campaign_id + "': " + c.type() + " dated " + format_time(at) +
                           " is before the campaign was opened (" + format_time(s.opened_at) + "); date it " +
                           date_of(s.opened_at) + " or later");
  Events out{c};
  Envelope& first = out.front();
  auto must_exist = [&](const std::string& id) -> Status {
    if (!s.exists())
      return missing(rule::kUnknownCampaign, "campaign '" + id + "' does not exist",
                     "open it first (CampaignOpened " + id + ")", {{"campaign_id", id}});
    if (s.decision && s.decision->verdict() == v1::CANCEL)
      return reject(rule::kThreadEnded, "campaign '" + id + "' was cancelled: CANCEL ends the thread", "",
                    {{"campaign_id", id}, {"ended_by", "CANCEL"}});
    if (s.results)
      return reject(rule::kThreadEnded, "campaign '" + id + "' has recorded its results; it accepts nothing more", "",
                    {{"campaign_id", id}, {"ended_by", "results"}});
    return Status::success();
  };
  auto must_be_launched = [&](const std::string& id) -> Status {
    if (auto st = must_exist(id); !st) return st;
    if (!s.launched())
      return reject(rule::kNotLaunched, "campaign '" + id + "' is not launched: its actions (stage 5) need a LAUNCH decision",
                    "launch it first (CampaignDecisionMade LAUNCH, with a reason)", {{"campaign_id", id}});
    return Status::success();
  };
  switch (c.payload_case()) {
    case Envelope::kCampaignOpened: {
      const auto& o = c.campaign_opened();
      if (auto st = check_slug("campaign id", o.campaign_id()); !st) return st;
      if (o.campaign_id().size() < 12 || !parse_time(o.campaign_id().substr(0, 10)).is_ok() || o.campaign_id()[10] != '-')
        return Status::invalid("campaign id '" + o.campaign_id() + "' should be YYYY-MM-DD-name (e.g. 2026-03-01-fintech-cfo)");
      if (s.exists())
        return Status::rule(Code::already_exists, rule::kCampaignExists, "campaign '" + o.campaign_id() + "' already exists", "",
                            {{"campaign_id", o.campaign_id()}});
      if (auto st = check_slug("segment", o.segment()); !st) return st;
      if (auto st = check_text("objective", o.objective()); !st) return st;
      if (o.target_list_size() < 0) return invalid_field("target_list_size", "target_list_size is negative");
      if (auto st = check_goal_link(o.goal_id(), "", facts); !st) return st;
      return out;
    }
    case Envelope::kCampaignHypothesisStated: {
      const auto& h = c.campaign_hypothesis_stated();
      if (auto st = must_exist(h.campaign_id()); !st) return st;
      if (!facts.assumptions.count(h.assumption_id())) return unknown_assumption(h.assumption_id(), facts);
      if (auto st = check_percent("confidence", h.confidence()); !st) return st;
      return out;
    }
    case Envelope::kCampaignImplicationAssessed: {
      const auto& i = c.campaign_implication_assessed();
      if (auto st = must_exist(i.campaign_id()); !st) return st;
      if (!s.hypothesis)
        return reject(rule::kStageSkipped, "campaign '" + i.campaign_id() + "' has no hypothesis: stage 3 needs stage 2 first", "",
                      {{"campaign_id", i.campaign_id()}, {"stage", "3-implication"}, {"needs", "2-hypothesis"}});
      if (i.expected_responses() < 0 || i.expected_meetings() < 0 || i.expected_deals() < 0 || i.cost_hours() < 0)
        return Status::invalid("expected outcomes and cost are counts, 0 or more");
      return out;
    }
    case Envelope::kCampaignDecisionMade: {
      const auto& d = c.campaign_decision_made();
      if (auto st = must_exist(d.campaign_id()); !st) return st;
      if (!s.hypothesis || !s.implication)
        return reject(rule::kStageSkipped,
                      "campaign '" + d.campaign_id() + "' cannot be decided yet: stage 4 needs the hypothesis and implication first", "",
                      {{"campaign_id", d.campaign_id()}, {"stage", "4-decision"}, {"needs", "3-implication"}});
      if (d.verdict() != v1::LAUNCH && d.verdict() != v1::DEFER && d.verdict() != v1::CANCEL)
        return invalid_field("verdict", "a campaign decision's verdict is launch, defer or cancel");
      if (auto st = check_text("reason", d.reason()); !st) return st;
      return out;
    }
    case Envelope::kProspectAdded: {
      const auto& p = c.prospect_added();
      if (auto st = must_be_launched(p.campaign_id()); !st) return st;
      if (auto st = check_text("company", p.company()); !st) return st;
      return out;
    }
    case Envelope::kContactAdded: {
      const auto& k = c.contact_added();
      if (auto st = must_be_launched(k.campaign_id()); !st) return st;
      if (auto st = check_text("contact.name", k.contact().name()); !st) return st;
      if (k.contact().email().find('@') == std::string::npos)
        return invalid_field("contact.email", "contact.email '" + k.contact().email() + "' is not an email address (name@company.com)");
      return out;
    }
    case Envelope::kOutreachSequenceDefined: {
      const auto& q = c.outreach_sequence_defined();
      if (auto st = must_be_launched(q.campaign_id()); !st) return st;
      if (q.steps().empty()) return Status::invalid("a sequence needs at least one step (day:channel:template)");
      return out;
    }
    case Envelope::kOutreachSent: {
      const auto& o = c.outreach_sent();
      if (auto st = must_be_launched(o.campaign_id()); !st) return st;
      if (!s.contacts.count(lower(o.email())))
        return missing(rule::kUnknownContact, "'" + o.email() + "' is not a contact of campaign '" + o.campaign_id() + "'",
                       "add the contact first (ContactAdded)", {{"campaign_id", o.campaign_id()}, {"email", o.email()}});
      return out;
    }
    case Envelope::kResponseReceived: {
      const auto& r = c.response_received();
      if (auto st = must_be_launched(r.campaign_id()); !st) return st;
      if (!s.contacts.count(lower(r.email())))
        return missing(rule::kUnknownContact, "'" + r.email() + "' is not a contact of campaign '" + r.campaign_id() + "'", "",
                       {{"campaign_id", r.campaign_id()}, {"email", r.email()}});
      auto worded = from_word(v1::ResponseKind_descriptor(), lower(r.kind()));
      if (!r.kind().empty() && !worded)
        return invalid_field("kind", "response kind '" + r.kind() + "' is not one of " + words_of(v1::ResponseKind_descriptor()));
      if (!r.kind().empty() && r.response() != v1::RESPONSE_KIND_UNSPECIFIED && *worded != r.response())
        return invalid_field("kind", "response kind '" + r.kind() + "' and response " + v1::ResponseKind_Name(r.response()) + " disagree: give one");
      const auto k = r.response() != v1::RESPONSE_KIND_UNSPECIFIED ? r.response() : worded ? static_cast<v1::ResponseKind>(*worded)
                                                                                              : v1::RESPONSE_KIND_UNSPECIFIED;
      if (k == v1::RESPONSE_KIND_UNSPECIFIED)
        return invalid_field("kind", "a response's kind is required: " + words_of(v1::ResponseKind_descriptor()));
      first.mutable_response_received()->set_kind(word(k));
      first.mutable_response_received()->set_response(k);
      if (!r.opens_deal_id().empty()) {
        if (k != v1::RESPONSE_INTERESTED)
          return Status::invalid("only an interested response opens a deal; this one is '" + word(k) + "' (drop the deal id)");
        if (auto st = check_slug("deal id", r.opens_deal_id()); !st) return st;
      }
      return out;
    }
    case Envelope::kProspectConverted: {
      const auto& p = c.prospect_converted();
      if (auto st = must_be_launched(p.campaign_id()); !st) return st;
      return out;
    }
    case Envelope::kCampaignResultsRecorded: {
      const auto& r = c.campaign_results_recorded();
      if (auto st = must_exist(r.campaign_id()); !st) return st;
      if (!s.decision)
        return reject(rule::kStageSkipped, "campaign '" + r.campaign_id() + "' has no decision: results follow the decision and actions",
                      "", {{"campaign_id", r.campaign_id()}, {"stage", "6-learning"}, {"needs", "4-decision"}});
      if (!r.assumption_id().empty() && !facts.assumptions.count(r.assumption_id()))
        return unknown_assumption(r.assumption_id(), facts);
      if (r.has_confidence())
        if (auto st = check_percent("confidence", r.confidence()); !st) return st;
      return out;
    }
    default:
      return Status::invalid("'" + c.type() + "' is not a campaign command");
  }
}

ResponseOpensDeal response_opens_deal(const CampaignState& s, const Envelope& response) {
  const auto& r = response.response_received();
  const v1::Contact& contact = s.contacts.at(lower(r.email()));
  const Micros at = from_timestamp(response.occurred_at());
  auto caused = [&](const google::protobuf::Message& payload, const char* rule) {
    Envelope e = make_event(payload, at);
    e.set_event_id(derived_event_id(response.event_id(), rule));
    e.set_actor(response.actor());
    e.set_causation_id(response.event_id());
    return e;
  };
  v1::LeadCaptured lead;
  lead.set_deal_id(r.opens_deal_id());
  lead.set_company(contact.company());
  lead.set_segment(s.opened->segment());
  lead.set_source(v1::CAMPAIGN);
  lead.set_channel("campaign:" + r.campaign_id());
  *lead.mutable_contact() = contact;
  lead.set_signal("replied interested to campaign " + r.campaign_id());
  lead.set_goal_id(s.opened->goal_id());
  lead.set_campaign_id(r.campaign_id());
  v1::ProspectConverted converted;
  converted.set_campaign_id(r.campaign_id());
  converted.set_company(contact.company());
  converted.set_deal_id(r.opens_deal_id());
  return {caused(lead, kResponseOpensDealRule), caused(converted, kResponseConvertsProspectRule)};
}

}  // namespace leanos
