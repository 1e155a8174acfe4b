// `leanos deal …`: a deal thread through its six stages. Each builds a command payload; the
// rules (through the actors) decide and record.
#include <cstdio>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "tools/cli/cli.h"

#include <optional>
#include "tools/cli/recording.h"

namespace leanos::cli {

// ---- deal thread ------------------------------------------------------------------------------

void add_deal_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* deal = app.add_subcommand("deal", "a deal thread through its six stages");
  deal->require_subcommand(1);
  {
    struct A {
      Recorded r;
      std::string id, company, segment, source, channel, name, title, email, signal, goal, subgoal, campaign, attribution;
    };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("open", "stage 1, input: capture the lead");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("--company", a->company, "the company's name, e.g. \"Acme Corp\"")->required();
    s->add_option("--segment", a->segment, "the segment (a slug, e.g. enterprise)")->required();
    s->add_option("--source", a->source, "inbound|outbound|campaign")->required();
    s->add_option("--channel", a->channel, "website|referral|prospecting");
    // A what-if's hypothetical deal (`whatif --with 'deal open …'`) needs no person: without a
    // contact or signal they are recorded as unknown on the branch.
    const bool hypothetical = g.capture != nullptr;
    s->add_option("--contact-name", a->name, "the contact's name (personal data: sealed, erased by forget)")->required(!hypothetical);
    s->add_option("--contact-title", a->title, "the contact's job title");
    s->add_option("--contact-email", a->email, "the contact's e-mail: the data subject `forget` names")->required(!hypothetical);
    s->add_option("--signal", a->signal, "what triggered the lead")->required(!hypothetical);
    s->add_option("--goal", a->goal, "the goal that spawned it");
    s->add_option("--subgoal", a->subgoal, "the subgoal it counts toward, e.g. SG1 (with --goal)");
    s->add_option("--campaign", a->campaign, "the campaign it came from (with --source campaign)");
    s->add_option("--attribution", a->attribution, "content source (blog article, LinkedIn post...)");
    add_corrects(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::LeadCaptured> {
      v1::LeadCaptured p;
      p.set_deal_id(a.id);
      p.set_company(a.company);
      p.set_segment(a.segment);
      auto src = parse_lead_source(a.source);
      if (!src) return src.status();
      p.set_source(*src);
      p.set_channel(!a.channel.empty() || a.campaign.empty() ? a.channel : "campaign:" + a.campaign);
      p.mutable_contact()->set_name(a.name);
      p.mutable_contact()->set_title(a.title);
      p.mutable_contact()->set_email(a.email);
      p.mutable_contact()->set_company(a.company);
      p.set_signal(a.signal);
      // Left out (a what-if's hypothetical deal only: elsewhere they are required): unknown.
      if (a.name.empty()) p.add_unknown("contact");
      if (a.email.empty()) p.add_unknown("email");
      if (a.signal.empty()) p.add_unknown("signal");
      p.set_goal_id(a.goal);
      p.set_subgoal_id(a.subgoal);
      p.set_campaign_id(a.campaign);
      p.set_attribution(a.attribution);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, tests; int confidence = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("hypothesis", "stage 2: the canvas assumption this deal tests");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("--tests", a->tests, "assumption id, e.g. A4")->required();
    s->add_option("--confidence", a->confidence, "initial confidence, whole percent 0-100")->required();
    add_corrects(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::HypothesisStated> {
      v1::HypothesisStated p;
      p.set_deal_id(a.id);
      p.set_assumption_id(a.tests);
      p.set_confidence(a.confidence);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, strategic; std::int64_t low = 0, high = 0; int hours = 0; double priority = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("implication", "stage 3: ARR potential, strategic value, cost, priority");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("--arr-low", a->low, "dollars")->required();
    s->add_option("--arr-high", a->high, "dollars")->required();
    s->add_option("--strategic", a->strategic, "high|medium|low")->required();
    s->add_option("--cost-hours", a->hours, "hours the deal will cost")->required();
    s->add_option("--priority", a->priority, "0..1")->required();
    add_corrects(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::ImplicationAssessed> {
      v1::ImplicationAssessed p;
      p.set_deal_id(a.id);
      p.set_arr_low(a.low);
      p.set_arr_high(a.high);
      auto sv = parse_strategic(a.strategic);
      if (!sv) return sv.status();
      p.set_strategic(*sv);
      p.set_cost_hours(a.hours);
      p.set_priority(a.priority);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id; double problem = 0, authority = 0, budget = 0, urgency = 0, fit = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("qualify-score",
                                   "the sales:qualify score: five dimensions 0..1 (>= 0.8 QUALIFIED, >= 0.5 MAYBE, else DISQUALIFIED "
                                   "and lost); it records the score, it does not complete sales:qualify");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("--problem", a->problem, "problem fit (weight 0.30)")->required();
    s->add_option("--authority", a->authority, "weight 0.20")->required();
    s->add_option("--budget", a->budget, "weight 0.20")->required();
    s->add_option("--urgency", a->urgency, "weight 0.15")->required();
    s->add_option("--fit", a->fit, "solution fit (weight 0.15)")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::QualificationScored> {
      v1::QualificationScored p;
      p.set_deal_id(a.id);
      p.set_problem(a.problem);
      p.set_authority(a.authority);
      p.set_budget(a.budget);
      p.set_urgency(a.urgency);
      p.set_fit(a.fit);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, verdict, reason; std::vector<std::string> alternatives; double impact = -1; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("decide", "stage 4: qualify, defer or reject");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("verdict", a->verdict, "qualify|defer|reject")->required();
    s->add_option("--reason", a->reason, "why (sealed with the deal's contact)")->required();
    s->add_option("--alternative", a->alternatives, "an alternative considered (repeatable)");
    s->add_option("--impact", a->impact, "0..1; default: the implication's priority");
    add_corrects(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::DecisionMade> {
      v1::DecisionMade p;
      p.set_deal_id(a.id);
      auto v = parse_deal_verdict(a.verdict);
      if (!v) return v.status();
      p.set_verdict(*v);
      p.set_reason(a.reason);
      for (const auto& alt : a.alternatives) p.add_alternatives(alt);
      p.set_impact(a.impact);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, by; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("approve", "a human approves a decision whose impact needs it");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("--by", a->by, "the approver")->required();
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::DecisionApproved> {
      v1::DecisionApproved p;
      p.set_deal_id(a.id);
      p.set_approved_by(a.by);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string id, type, step, outcome, reason; int from = 0, to = 0; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("action",
                                   "stage 5: plan, start, complete, block or unblock an action; one runs at a time, in order: "
                                   "sales:lead-intake -> sales:qualify -> sales:demo -> sales:pilot (optional) -> sales:close");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("action", a->type, "sales:lead-intake|sales:qualify|sales:demo|sales:pilot|sales:close")->required();
    s->add_option("step", a->step, "plan|start|complete|block|unblock")
        ->required()
        ->check(CLI::IsMember({"plan", "start", "complete", "block", "unblock"}));
    s->add_option("--outcome", a->outcome, "with complete: the result, e.g. QUALIFIED, INTERESTED, SUCCESS, WON");
    s->add_option("--reason", a->reason, "with block: why");
    s->add_option("--day-from", a->from, "with plan: first day of the window");
    s->add_option("--day-to", a->to, "with plan: last day of the window");
    add_recorded(s, a->r);
    add_corrects(s, a->r);  // a completion's result
    s->callback([&, a] {
      action = [&g, a] {
        if (a->step == "plan") {
          v1::ActionPlanned p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          p.set_day_from(a->from);
          p.set_day_to(a->to);
          return submit(g, p, a->r);
        }
        if (a->step == "start") {
          v1::ActionStarted p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          return submit(g, p, a->r);
        }
        if (a->step == "complete") {
          v1::ActionCompleted p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          p.set_result(a->outcome);
          return submit(g, p, a->r);
        }
        if (a->step == "block") {
          v1::ActionBlocked p;
          p.set_deal_id(a->id);
          p.set_action(a->type);
          p.set_reason(a->reason);
          return submit(g, p, a->r);
        }
        v1::ActionUnblocked p;
        p.set_deal_id(a->id);
        p.set_action(a->type);
        return submit(g, p, a->r);
      };
    });
  }
  {
    struct A {
      Recorded r;
      std::string id, outcome, reason;
      std::int64_t arr = 0, mrr = 0, one_off = 0;
      std::optional<std::int64_t> cost;
      std::optional<int> margin;
      int satisfaction = 0;
    };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("close", "stage 6: the outcome (won, lost, stalled); cycle time is derived");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("outcome", a->outcome, "won|lost|stalled")->required();
    s->add_option("--arr", a->arr, "recurring revenue, dollars a year (won); ARR = 12 x MRR");
    auto* mrr = s->add_option("--mrr", a->mrr, "recurring revenue, dollars a month (default ARR / 12)");
    s->add_option("--one-off", a->one_off, "revenue that does not recur, dollars (set-up, services, a licence; won)");
    s->add_option("--reason", a->reason, "lost: pricing|terms|timing|competition|other");
    s->add_option("--margin", a->margin, "gross margin, percent (left out: not known)");
    s->add_option("--cost", a->cost, "sales cost, dollars, for CAC (left out: not known)");
    s->add_option("--satisfaction", a->satisfaction, "customer satisfaction 1..10");
    add_recorded(s, a->r);
    add_corrects(s, a->r);
    s->callback([&, a, mrr] {
      const bool mrr_given = mrr->count() > 0;
      action = [&g, a, mrr_given] {
        v1::DealClosed p;
        p.set_deal_id(a->id);
        auto o = parse_outcome(a->outcome);
        if (!o) return fail(o.status());
        p.set_outcome(*o);
        p.set_arr(a->arr);
        if (mrr_given) p.set_mrr(a->mrr);
        p.set_reason(a->reason);
        p.set_one_off(a->one_off);
        if (a->margin) p.set_margin_pct(*a->margin);
        if (a->cost) p.set_cost(*a->cost);
        p.set_satisfaction(a->satisfaction);
        return submit(g, p, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string id, assumption, result, evidence; int confidence = 0; CLI::Option* conf = nullptr; };
    auto a = std::make_shared<A>();
    auto* s = deal->add_subcommand("learn", "stage 6: what the deal taught about an assumption");
    s->add_option("deal-id", a->id, "the deal, e.g. acme-corp (letters, digits, - _ .)")->required();
    s->add_option("--assumption", a->assumption, "default: the assumption the hypothesis tested");
    s->add_option("--result", a->result, "validated|invalidated|partial")->required();
    a->conf = s->add_option("--confidence", a->confidence, "the assumption's new confidence, whole percent 0-100");
    s->add_option("--evidence", a->evidence, "what showed it (sealed with the deal's contact)");
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::LearningRecorded> {
      v1::LearningRecorded p;
      p.set_deal_id(a.id);
      p.set_assumption_id(a.assumption);
      auto res = parse_learning_result(a.result);
      if (!res) return res.status();
      p.set_result(*res);
      if (a.conf->count()) p.set_confidence(a.confidence);
      p.set_evidence(a.evidence);
      return p;
    });
  }
}


}  // namespace leanos::cli
