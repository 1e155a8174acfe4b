// `leanos campaign …`: an outbound campaign thread; prospects and contacts from CSV files.
#include <cstdio>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "tools/cli/cli.h"
#include "tools/cli/recording.h"

namespace leanos::cli {

void add_campaign_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* camp = app.add_subcommand("campaign", "an outbound campaign thread through the same six stages");
  camp->require_subcommand(1);
  {
    struct A { Recorded r; std::string id, segment, objective, goal; int targets = 0; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("open", "stage 1: campaign goal and target list (id YYYY-MM-DD-name)");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--segment", a->segment, "the segment it targets (a slug, e.g. mid-market)")->required();
    s->add_option("--objective", a->objective, "what the campaign is for, in words")->required();
    s->add_option("--targets", a->targets, "size of the target list (50-100 companies)");
    s->add_option("--goal", a->goal, "the goal it serves (a goal id)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignOpened> {
      v1::CampaignOpened p;
      p.set_campaign_id(a.id);
      p.set_segment(a.segment);
      p.set_objective(a.objective);
      p.set_target_list_size(a.targets);
      p.set_goal_id(a.goal);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, tests; int confidence = 0; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("hypothesis", "stage 2: what the campaign tests");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--tests", a->tests, "the assumption it tests, e.g. A4")->required();
    s->add_option("--confidence", a->confidence, "whole percent, 0-100")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignHypothesisStated> {
      v1::CampaignHypothesisStated p;
      p.set_campaign_id(a.id);
      p.set_assumption_id(a.tests);
      p.set_confidence(a.confidence);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id; int responses = 0, meetings = 0, deals = 0, hours = 0; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("implication", "stage 3: expected outcomes and cost");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--responses", a->responses, "responses expected")->required();
    s->add_option("--meetings", a->meetings, "meetings expected")->required();
    s->add_option("--deals", a->deals, "deals expected")->required();
    s->add_option("--cost-hours", a->hours, "hours it will cost")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignImplicationAssessed> {
      v1::CampaignImplicationAssessed p;
      p.set_campaign_id(a.id);
      p.set_expected_responses(a.responses);
      p.set_expected_meetings(a.meetings);
      p.set_expected_deals(a.deals);
      p.set_cost_hours(a.hours);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, verdict, reason; std::vector<std::string> alternatives; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("decide", "stage 4: launch, defer or cancel");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("verdict", a->verdict, "launch|defer|cancel")->required();
    s->add_option("--reason", a->reason, "why (about the segment: name no person, it is not sealed)")->required();
    s->add_option("--alternative", a->alternatives, "an alternative considered (repeatable)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignDecisionMade> {
      v1::CampaignDecisionMade p;
      p.set_campaign_id(a.id);
      auto v = parse_campaign_verdict(a.verdict);
      if (!v) return v.status();
      p.set_verdict(*v);
      p.set_reason(a.reason);
      for (const auto& alt : a.alternatives) p.add_alternatives(alt);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, csv; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("prospects", "stage 5: the prospect list (CSV: company name, website, LinkedIn)");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--csv", a->csv, "the CSV file (a header line, then one row each)")->required();
    add_recorded(s, a->r);
    add_encoding(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        return import_csv(g, a->csv, a->r, 3, {"company name", "website (optional)", "linkedin (optional)"},
                          [a](const CsvRow& row, const std::string&) -> Result<v1::ProspectAdded> {
                            v1::ProspectAdded p;
                            p.set_campaign_id(a->id);
                            p.set_company(row.cells[0]);
                            p.set_website(row.cells[1]);
                            p.set_linkedin(row.cells[2]);
                            return p;
                          });
      };
    });
  }
  {
    struct A { Recorded r; std::string id, csv; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("contacts", "stage 5: decision-makers (CSV: contact name, title, email, company)");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--csv", a->csv, "the CSV file (a header line, then one row each)")->required();
    add_recorded(s, a->r);
    add_encoding(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        return import_csv(g, a->csv, a->r, 4, {"contact name", "title (optional)", "email", "company"},
                          [a](const CsvRow& row, const std::string& path) -> Result<v1::ContactAdded> {
                            if (row.cells[2].find('@') == std::string::npos)
                              return Status::invalid(path + " line " + std::to_string(row.line) + ", column 3 (email): '" +
                                                     row.cells[2] + "' is not an email address; nothing recorded");
                            v1::ContactAdded p;
                            p.set_campaign_id(a->id);
                            p.mutable_contact()->set_name(row.cells[0]);
                            p.mutable_contact()->set_title(row.cells[1]);
                            p.mutable_contact()->set_email(row.cells[2]);
                            p.mutable_contact()->set_company(row.cells[3]);
                            return p;
                          });
      };
    });
  }
  {
    struct A { Recorded r; std::string id; std::vector<std::string> steps; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("sequence", "stage 5: the outreach sequence, steps DAY:CHANNEL:TEMPLATE");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--step", a->steps, "e.g. 1:email:intro (repeatable)")->required();
    add_recorded(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        v1::OutreachSequenceDefined p;
        p.set_campaign_id(a->id);
        for (const auto& step : a->steps) {
          const auto c1 = step.find(':'), c2 = step.find(':', c1 == std::string::npos ? c1 : c1 + 1);
          if (c1 == std::string::npos || c2 == std::string::npos)
            return fail(Status::invalid("step '" + step + "' is not DAY:CHANNEL:TEMPLATE (e.g. 3:linkedin:connect)"));
          auto* st = p.add_steps();
          try {
            st->set_day(std::stoi(step.substr(0, c1)));
          } catch (...) {
            return fail(Status::invalid("step '" + step + "': the day is not a number"));
          }
          st->set_channel(step.substr(c1 + 1, c2 - c1 - 1));
          st->set_template_(step.substr(c2 + 1));
        }
        return submit(g, p, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string id, email; int step = 1; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("sent", "stage 5: an outreach step sent to a contact");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--email", a->email, "the contact's e-mail, as in the contacts list")->required();
    s->add_option("--step", a->step, "which step of the sequence (default 1)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::OutreachSent> {
      v1::OutreachSent p;
      p.set_campaign_id(a.id);
      p.set_email(a.email);
      p.set_step(a.step);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, email, kind, deal; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("response", "stage 5: a response; 'interested' with --deal opens that deal");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--email", a->email, "the contact's e-mail, as in the contacts list")->required();
    s->add_option("--kind", a->kind, "interested|not_interested|later|bounced")->required();
    s->add_option("--deal", a->deal, "with interested: the deal id to open (source campaign)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::ResponseReceived> {
      v1::ResponseReceived p;
      p.set_campaign_id(a.id);
      p.set_email(a.email);
      p.set_kind(a.kind);
      p.set_opens_deal_id(a.deal);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, assumption, result, summary; int confidence = 0; CLI::Option* conf = nullptr; };
    auto a = std::make_shared<A>();
    auto* s = camp->add_subcommand("results", "stage 6: results and what they say about an assumption");
    s->add_option("campaign-id", a->id, "the campaign, e.g. 2026-01-15-cfo-outreach")->required();
    s->add_option("--assumption", a->assumption, "default: the assumption the hypothesis tested");
    s->add_option("--result", a->result, "validated|invalidated|partial")->required();
    a->conf = s->add_option("--confidence", a->confidence, "whole percent, 0-100");
    s->add_option("--summary", a->summary, "what the results say (about the segment: name no person)")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::CampaignResultsRecorded> {
      v1::CampaignResultsRecorded p;
      p.set_campaign_id(a.id);
      p.set_assumption_id(a.assumption);
      auto res = parse_learning_result(a.result);
      if (!res) return res.status();
      p.set_result(*res);
      if (a.conf->count()) p.set_confidence(a.confidence);
      p.set_summary(a.summary);
      return p;
    });
  }
}


}  // namespace leanos::cli
