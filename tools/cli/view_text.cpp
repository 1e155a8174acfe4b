#include "tools/cli/view_text.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "events/domain.h"
#include "events/time.h"
#include "projections/views.h"
#include "tools/cli/views.h"

namespace leanos::cli {

namespace {

// printf into a string.
std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string s(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, format, args);
  va_end(args);
  return s;
}

std::string pct(std::optional<double> v) { return v ? fmt("%.0f %%", *v * 100) : "-"; }
std::string num(std::optional<double> v) { return v ? fmt("%.1f", *v) : "-"; }
std::string money(std::optional<double> v) { return v ? dollars(static_cast<std::int64_t>(*v + 0.5)) : "-"; }

#define OPT(m, field) ((m).has_##field() ? std::optional<double>((m).field()) : std::nullopt)

}  // namespace

std::string canvas_text(const v1::CanvasView& v) {
  std::string o = fmt("canvas at position %llu\n\nassumptions\n", static_cast<unsigned long long>(v.position()));
  for (const auto& a : v.assumptions()) {
    o += fmt("  %-6s %3d %%  %-11s  %s", a.id().c_str(), a.confidence(), word(a.status()).c_str(), a.statement().c_str());
    if (a.evidence_count()) o += fmt("  (N=%d, %.0f %% pattern)", a.evidence_count(), 100.0 * a.agreeing_share());
    o += "\n";
  }
  const auto& m = v.metrics();
  o += fmt("\nmetrics\n  ARR %s  MRR %s%s  customers %d  average deal size %s  average cycle %s days  win rate %s  CAC %s\n",
           dollars(m.arr()).c_str(), dollars(m.mrr()).c_str(), m.one_off() ? ("  one-off " + dollars(m.one_off())).c_str() : "",
           m.customers(), money(OPT(m, avg_deal_size)).c_str(), num(OPT(m, avg_cycle_days)).c_str(), pct(OPT(m, win_rate)).c_str(),
           money(OPT(m, cac)).c_str());
  return o;
}

std::string goal_text(const v1::GoalView& g) {
  const auto& tr = g.trajectory();
  std::string o = fmt("goal %s: %s\n  %s %s of %s (%.0f %%)%s\n", g.id().c_str(), g.title().c_str(), g.metric().c_str(),
                      amount(g.metric(), g.current()).c_str(), amount(g.metric(), g.target()).c_str(), g.progress() * 100,
                      g.met() ? ("  TARGET MET " + date_of(g.met_at())).c_str() : "");
  if (g.has_due()) {
    const double days = tr.days_remaining();
    if (days >= 0) o += fmt("  due %s, %.0f days left\n", g.due().c_str(), days);
    else o += fmt("  due %s, %.0f days past due\n", g.due().c_str(), -days);
  }
  o += fmt("  rate %.1f/day, projected %s at the deadline: %s, risk %s\n", tr.rate_per_day(),
           tr.has_projected() ? amount(g.metric(), tr.projected()).c_str() : "-", tr.on_track() ? "on track" : "off track",
           word(tr.risk()).c_str());
  for (int i = 0; i < g.subgoals_size(); ++i) {
    const auto& sg = g.subgoals(i);
    o += fmt("  %s \"%s\": %s/%s %s\n", sg.id().c_str(), sg.title().c_str(), amount(sg.metric(), sg.current()).c_str(),
             amount(sg.metric(), sg.target()).c_str(), i < tr.subgoal_status_size() ? word(tr.subgoal_status(i).status()).c_str() : "");
  }
  for (const auto& m : g.milestones()) o += fmt("  milestone %d %% reached %s\n", m.percent(), date_of(m.reached_at()).c_str());
  return o;
}

std::string metrics_text(const v1::MetricsView& m) {
  std::string o = "pipeline velocity                 value      target\n";
  // Each target as the view gives it (the seed's table: projections/metrics.h), a rate in percent.
  const auto target = [&m](const char* metric, bool rate) {
    for (const auto& t : m.targets())
      if (t.metric() == metric) {
        const std::string value = rate ? fmt("%.0f %%", t.value() * 100) : fmt("%.0f", t.value());
        return word(t.comparison()) + " " + value + (t.has_met() ? (t.met() ? "  met" : "  missed") : "");
      }
    return std::string();
  };
  o += fmt("  lead response time (hours)      %-10s %s\n", num(OPT(m, lead_response_hours)).c_str(), target("lead_response_hours", false).c_str());
  o += fmt("  qualification time (days)       %-10s %s\n", num(OPT(m, qualification_days)).c_str(), target("qualification_days", false).c_str());
  o += fmt("  demo booking rate               %-10s %s\n", pct(OPT(m, demo_booking_rate)).c_str(), target("demo_booking_rate", true).c_str());
  o += fmt("  pilot conversion                %-10s %s\n", pct(OPT(m, pilot_conversion)).c_str(), target("pilot_conversion", true).c_str());
  o += fmt("  close rate (qualified)          %-10s %s\n", pct(OPT(m, close_rate)).c_str(), target("close_rate", true).c_str());
  o += "materials quality\n";
  o += fmt("  pitch deck approval             %-10s %s\n", pct(OPT(m, pitch_deck_approval)).c_str(), target("pitch_deck_approval", true).c_str());
  o += fmt("  email response rate             %-10s %s\n", pct(OPT(m, email_response_rate)).c_str(), target("email_response_rate", true).c_str());
  o += fmt("  proposal acceptance             %-10s %s\n", pct(OPT(m, proposal_acceptance)).c_str(), target("proposal_acceptance", true).c_str());
  o += "deal metrics\n";
  // What an average rests on, when it is not every deal it is over: unknown is not zero.
  const auto of = [](int known, int all, const char* what) {
    return known < all ? fmt("  (%d of %d %s known)", known, all, what) : std::string();
  };
  o += fmt("  average deal size (first year)  %s\n", money(OPT(m, avg_deal_size)).c_str());
  o += fmt("  sales cycle length (days)       %s\n", num(OPT(m, avg_cycle_days)).c_str());
  o += fmt("  win rate (qualified)            %s\n", pct(OPT(m, win_rate)).c_str());
  o += fmt("  average margin                  %s%s\n", m.has_avg_margin_pct() ? fmt("%.1f %%", m.avg_margin_pct()).c_str() : "-",
           of(m.margins_known(), m.won(), "won deals' margins").c_str());
  o += fmt("  customer acquisition cost       %s%s\n", money(OPT(m, cac)).c_str(),
           of(m.costs_known(), m.closed(), "closed deals' sales costs").c_str());
  o += fmt("  MRR %s, ARR %s%s, customers %d; %d deals (%d open, %d qualified, %d won, %d lost)\n", dollars(m.mrr()).c_str(),
           dollars(m.arr()).c_str(), m.one_off() ? (", one-off " + dollars(m.one_off())).c_str() : "", m.customers(), m.deals(),
           m.open(), m.qualified(), m.won(), m.lost());
  return o;
}

std::string opportunities_text(const v1::OpportunitiesView& v) {
  std::string o;
  for (const auto& x : v.opportunities()) {
    std::string by;
    for (const auto& d : x.caused_by()) by += (by.empty() ? "" : ", ") + d;
    o += fmt("%s  %.2f  %-10s %s%s  (from %s)\n", date_of(x.flagged_at()).c_str(), x.priority(), x.kind().c_str(),
             x.topic().c_str(), x.acted() ? " [acted]" : "", by.c_str());
  }
  return o;
}

std::string goals_text(const v1::TodayView& r) {
  std::string o;
  if (r.goals().empty()) o += "  none defined yet: `leanos goal define G --title T --metric mrr --target N --due DATE`\n";
  for (const auto& g : r.goals()) {
    const auto& t = g.trajectory();
    o += fmt("  %-12s %3.0f %%  %s of %s  risk %-8s %s%s\n", g.id().c_str(), t.progress() * 100,
             amount(g.metric(), g.current()).c_str(), amount(g.metric(), g.target()).c_str(), word(t.risk()).c_str(),
             g.met() ? "target met" : (t.on_track() ? "on track" : "off track"), g.has_due() ? (", due " + g.due()).c_str() : "");
    for (const auto& s : t.subgoal_status()) o += "               " + s.id() + " " + word(s.status()) + "\n";
  }
  return o;
}

std::string today_text(const v1::TodayView& r) {
  std::string o = "LeanOS morning, " + date_of(r.as_of()) + "\n\nGOALS\n" + goals_text(r);
  auto section = [&](const char* title, const google::protobuf::RepeatedPtrField<v1::QueueItem>& list, int max = 8) {
    if (list.empty()) return;
    o += fmt("  %s (%d)\n", title, list.size());
    for (int i = 0; i < list.size() && i < max; ++i) o += "    - " + list[i].what() + "\n";
    if (list.size() > max) o += fmt("    ... and %d more (--json lists all)\n", list.size() - max);
  };
  const auto& q = r.queue();
  o += "\nNEEDS YOU\n";
  if (q.approvals().empty() && q.human_actions().empty() && q.blocked().empty() && q.content().empty() && q.agent_decisions().empty())
    o += "  nothing waits for a person\n";
  section("approvals", r.queue().approvals());
  section("actions that need a person", r.queue().human_actions(), 6);
  section("blocked", r.queue().blocked());
  section("content opportunities", r.queue().content(), 3);
  section("agents decided on their own (24 h)", r.queue().agent_decisions(), 3);
  o += "\nALERTS\n";
  if (r.alerts().overdue().empty() && r.alerts().stalled().empty()) o += "  nothing overdue or stalled\n";
  section("overdue", r.alerts().overdue(), 6);
  section("stalled", r.alerts().stalled(), 6);
  o += "\nRECOMMENDED\n";
  if (r.recommendations().empty())
    o += r.goals().empty() ? "  - start with a goal and the assumptions it rests on (`leanos goal define`, `leanos canvas assume`), "
                             "then open a deal (`leanos deal open`) or bring a LeanOS workspace (`leanos import DIR`)\n"
                           : "  nothing to add\n";
  for (const auto& rec : r.recommendations()) o += "  - " + rec.action() + "  [" + word(rec.rule()) + ": " + rec.why() + "]\n";
  return o;
}

namespace {
// A field an imported file did not state: "unknown", never blank or zero.
std::string or_unknown(const std::string& v) { return v.empty() ? "unknown" : v; }
}  // namespace

std::string pipeline_text(const v1::PipelineView& p) {
  std::string o, stage;
  for (const auto& d : p.deals()) {
    if (word(d.stage()) != stage) {
      stage = word(d.stage());
      o += stage + "\n";
    }
    o += fmt("  %-22s %-12s %5.1f d  prio %.2f  %-28s next: %s%s\n", d.company().c_str(), or_unknown(d.segment()).c_str(), d.days_in_stage(),
             d.priority(), d.action().c_str(), d.next_action().c_str(), d.stalled() ? "  STALLED" : "");
  }
  if (p.deals().empty()) o += "no open deals\n";
  return o;
}

std::string deal_list_text(const v1::DealList& l) {
  if (l.deals().empty()) return "no deals match\n";
  std::string o = fmt("%-24s %-22s %-12s %-14s %-9s %8s  %s\n", "deal", "company", "segment", "stage", "status", "days", "next");
  for (const auto& d : l.deals())
    o += fmt("%-24s %-22s %-12s %-14s %-9s %8.1f  %s\n", d.deal_id().c_str(), d.company().c_str(), or_unknown(d.segment()).c_str(),
             word(d.stage()).c_str(), word(d.status()).c_str(), d.days_in_stage(), d.next_action().empty() ? "-" : d.next_action().c_str());
  return o;
}

namespace {
std::string fixed2(double v) { return fmt("%.2f", v); }
std::string result_name(v1::LearningResult r) { return lower(v1::LearningResult_Name(r)); }
}  // namespace

std::string deal_thread_text(const v1::DealThreadView& d) {
  std::string o;
  const auto& l = d.input();
  o += "deal " + d.deal_id() + ": " + l.company() + " (" + (l.segment().empty() ? std::string("segment unknown") : l.segment()) + "), stage " + word(d.stage()) + "\n";
  o += "1 input        " + date_of(d.input_at()) + "  " +
       (l.source() == v1::LEAD_SOURCE_UNSPECIFIED ? "source unknown" : lower(v1::LeadSource_Name(l.source())));
  if (!l.channel().empty()) o += "/" + l.channel();
  o += "  " + or_unknown(l.contact().name());
  if (!l.contact().title().empty()) o += ", " + l.contact().title();
  o += " <" + (l.contact().email().empty() ? std::string("e-mail unknown") : l.contact().email()) + ">  signal: " + or_unknown(l.signal());
  if (!l.goal_id().empty()) o += "  goal " + l.goal_id() + (l.subgoal_id().empty() ? "" : "/" + l.subgoal_id());
  if (!l.campaign_id().empty()) o += "  campaign " + l.campaign_id();
  if (!l.attribution().empty()) o += "  attributed to " + l.attribution();
  o += "\n";
  // What the files did not state, named where the thread shows it.
  for (const auto& u : l.unknown()) o += "               " + u + ": unknown (the input named none)\n";
  for (const auto& u : d.implication().unknown()) o += "               " + u + ": unknown (the implication named none)\n";
  if (d.has_hypothesis())
    o += "2 hypothesis   " + date_of(d.hypothesis_at()) + "  tests " + d.hypothesis().assumption_id() + " at " +
         std::to_string(d.hypothesis().confidence()) + " %\n";
  else
    o += "2 hypothesis   -\n";
  if (d.has_implication())
    o += "3 implication  " + date_of(d.implication_at()) + "  ARR " + dollars(d.implication().arr_low()) + "-" +
         dollars(d.implication().arr_high()) + ", strategic " +
         (d.implication().strategic() == v1::STRATEGIC_VALUE_UNSPECIFIED ? std::string("unknown")
                                                                          : lower(v1::StrategicValue_Name(d.implication().strategic()))) +
         ", " + std::to_string(d.implication().cost_hours()) + " h, priority " + fixed2(d.implication().priority()) + "\n";
  else
    o += "3 implication  -\n";
  if (d.has_decision()) {
    o += "4 decision     " + date_of(d.decision_at()) + "  " + verdict_name(d.decision().verdict()) + " (impact " +
         fixed2(d.decision().impact());
    if (d.decision().approval_required()) o += d.approved() ? ", approved by " + d.approved_by() : ", AWAITING APPROVAL";
    o += "): " + d.decision().reason() + "\n";
  } else {
    o += "4 decision     -\n";
  }
  if (d.actions().empty()) o += "5 actions      -\n";
  bool first = true;
  for (const auto& a : d.actions()) {
    o += first ? "5 actions      " : "               ";
    first = false;
    const auto& t = a.has_completed_at() ? a.completed_at() : a.has_started_at() ? a.started_at() : a.planned_at();
    o += date_of(t) + "  " + a.action() + " " + word(a.status());
    if (!a.result().empty()) o += " -> " + a.result();
    o += "\n";
  }
  if (d.has_qualification())
    o += "               qualification score " + fixed2(d.qualification().total()) + " " +
         v1::QualificationVerdict_Name(d.qualification().verdict()) + "\n";
  if (d.has_outcome()) {
    const auto& c = d.outcome();
    o += "6 learning     " + date_of(d.outcome_at()) + "  " + outcome_name(c.outcome());
    if (c.outcome() == v1::WON) o += ", ARR " + dollars(c.arr()) + ", MRR " + dollars(c.mrr());
    if (!c.reason().empty()) o += ", reason " + c.reason();
    o += ", cycle " + std::to_string(c.cycle_days()) + " days\n";
    for (const auto& lr : d.learnings()) {
      o += "               " + lr.assumption_id() + " " + result_name(lr.result());
      if (lr.has_confidence()) o += " -> " + std::to_string(lr.confidence()) + " %";
      if (!lr.evidence().empty()) o += " (" + lr.evidence() + ")";
      if (!lr.corrects_event_id().empty()) o += "  [corrected; was " + result_name(lr.corrected_result()) + "]";
      o += "\n";
    }
  } else {
    o += "6 learning     -\n";
  }
  if (!d.sources().empty()) o += "read from the workspace's files\n";
  for (const auto& src : d.sources())
    o += fmt("  %-34s %s:%d  version %s%s\n", (src.event_type() + (src.subject().empty() ? "" : " " + src.subject())).c_str(),
             src.file().c_str(), src.line(), src.sha256().substr(0, 12).c_str(),
             src.git_commit().empty() ? "" : ("  commit " + src.git_commit().substr(0, 10)).c_str());
  return o;
}

std::string campaign_view_text(const v1::CampaignView& c) {
  std::string o = "campaign " + c.campaign_id() + " (" + c.input().segment() + "), stage " + word(c.stage()) + "\n";
  o += "1 input        " + c.input().objective() + ", " + std::to_string(c.input().target_list_size()) + " targets";
  if (!c.input().goal_id().empty()) o += ", goal " + c.input().goal_id();
  o += "\n";
  o += "2 hypothesis   " +
       (c.has_hypothesis() ? "tests " + c.hypothesis().assumption_id() + " at " + std::to_string(c.hypothesis().confidence()) + " %"
                           : std::string("-")) +
       "\n";
  if (c.has_implication())
    o += fmt("3 implication  expect %d responses, %d meetings, %d deals; %d h\n", static_cast<int>(c.implication().expected_responses()),
             static_cast<int>(c.implication().expected_meetings()), static_cast<int>(c.implication().expected_deals()),
             static_cast<int>(c.implication().cost_hours()));
  else
    o += "3 implication  -\n";
  o += "4 decision     " + (c.has_decision() ? verdict_name(c.decision().verdict()) + ": " + c.decision().reason() : std::string("-")) + "\n";
  o += fmt("5 actions      %d prospects, %d contacts, %d-step sequence, %d sent, %d responses (%d interested), %d converted to deals\n",
           c.prospects(), c.contacts(), c.sequence_steps(), c.sent(), c.responses(), c.interested(), c.conversions());
  o += "6 learning     ";
  if (c.has_results())
    o += c.results().assumption_id() + " " + result_name(c.results().result()) + ": " + c.results().summary() + "\n";
  else
    o += "-\n";
  return o;
}

namespace {
// " (from FILE:LINE, version SHA12)" for a fact an import read from a file; "" otherwise.
std::string from_file(const Envelope& e) {
  const auto& m = e.metadata();
  const auto file = m.find("source_file");
  if (file == m.end()) return "";
  const auto line = m.find("source_line");
  const auto sha = m.find("source_sha256");
  return " (from " + file->second + (line == m.end() ? "" : ":" + line->second) +
         (sha == m.end() ? "" : ", version " + sha->second.substr(0, 12)) + ")";
}
}  // namespace

std::string audit_text(const v1::AuditView& a) {
  std::string o = fmt("audit of deal %s: %d decision(s)\n", a.deal_id().c_str(), a.decisions_size());
  for (int i = 0; i < a.decisions_size(); ++i) {
    const auto& d = a.decisions(i);
    const auto& e = d.event();
    const auto& p = e.decision_made();
    o += fmt("\n%s %s on %s by %s (recorded %s, position %llu)%s\n", i ? "revision:" : "decision:", verdict_name(p.verdict()).c_str(),
             date_of(e.occurred_at()).c_str(), e.actor().c_str(), format_time(from_timestamp(e.recorded_at())).c_str(),
             static_cast<unsigned long long>(e.position()), from_file(e).c_str());
    o += "  reason: " + p.reason() + "\n";
    for (const auto& alt : p.alternatives()) o += "  alternative considered: " + alt + "\n";
    o += fmt("  impact %.2f%s\n", p.impact(), p.approval_required() ? " (needs human approval)" : "");
    const auto& in = d.inputs();
    auto percent = [](bool has, int v) { return has ? std::to_string(v) + " %" : std::string("-"); };
    if (in.has_hypothesis()) {
      const std::string then = percent(in.has_assumption_confidence_then(), in.assumption_confidence_then());
      const std::string on_date =
          percent(in.has_assumption_confidence_on_decision_date(), in.assumption_confidence_on_decision_date());
      o += fmt("  input: tests %s at %d %%; the canvas had it at %s when this was recorded", in.hypothesis().assumption_id().c_str(),
               in.hypothesis().confidence(), then.c_str());
      if (then != on_date)  // dated apart, or facts of that date recorded since
        o += ", " + on_date + " on the decision's date as known now";
      o += "\n";
    }
    if (in.has_implication())
      o += fmt("  input: ARR %s-%s, strategic %s, priority %.2f\n", dollars(in.implication().arr_low()).c_str(),
               dollars(in.implication().arr_high()).c_str(),
               in.implication().strategic() == v1::STRATEGIC_VALUE_UNSPECIFIED ? "unknown"
                                                                                : v1::StrategicValue_Name(in.implication().strategic()).c_str(),
               in.implication().priority());
    if (in.has_qualification())
      o += fmt("  input: qualification score %.2f %s\n", in.qualification().total(),
               v1::QualificationVerdict_Name(in.qualification().verdict()).c_str());
    if (d.has_approval())
      o += "  approved by " + d.approval().decision_approved().approved_by() + " on " + date_of(d.approval().occurred_at()) + "\n";
    for (const auto& n : d.then()) o += "  then " + date_of(n.occurred_at()) + "  " + n.type() + "\n";
  }
  o += "\ncaused downstream\n";
  for (const auto& e : a.caused()) {
    o += fmt("  %s  %-28s %s", date_of(e.occurred_at()).c_str(), e.type().c_str(), e.stream().c_str());
    if (e.has_assumption_confidence_changed())
      o += fmt("  %s %d %% -> %d %%", e.assumption_confidence_changed().assumption_id().c_str(),
               e.assumption_confidence_changed().previous(), e.assumption_confidence_changed().confidence());
    if (e.has_goal_progressed())
      o += "  " + dollars(e.goal_progressed().previous()) + " -> " + dollars(e.goal_progressed().current());
    if (e.has_subgoal_progressed())
      o += fmt("  %s %lld -> %lld%s", e.subgoal_progressed().subgoal_id().c_str(),
               static_cast<long long>(e.subgoal_progressed().previous()), static_cast<long long>(e.subgoal_progressed().current()),
               e.subgoal_progressed().done() ? " done" : "");
    if (e.has_content_opportunity_flagged()) o += "  " + e.content_opportunity_flagged().topic();
    if (e.has_canvas_metric_recorded())  // one line per metric: say which, and its new value
      o += fmt("  %s = %lld", e.canvas_metric_recorded().metric().c_str(), static_cast<long long>(e.canvas_metric_recorded().value()));
    o += "\n";
  }
  return o;
}

std::string assumption_history_text(const v1::AssumptionHistoryView& w) {
  std::string o;
  for (const auto& c : w.changes()) {
    const auto& e = c.event();
    const std::string date = date_of(e.occurred_at());
    if (e.has_assumption_registered()) {
      o += fmt("%s  registered at %d %% by %s: %s%s\n", date.c_str(), e.assumption_registered().confidence(), e.actor().c_str(),
               e.assumption_registered().statement().c_str(), from_file(e).c_str());
      continue;
    }
    const auto& p = c.holds();
    const std::string status = projections::assumption_status_name(p.status());
    if (c.withdrawn()) o += date + "  withdrawn: no longer follows";
    else o += fmt("%s  %d %% -> %d %% (%s)", date.c_str(), p.previous(), p.confidence(), status.c_str());
    if (e.has_assumption_revised()) o += "  revised by " + e.actor() + (p.evidence().empty() ? "" : ": " + p.evidence()) + from_file(e);
    if (c.has_cause()) {
      const auto& cause = c.cause();
      const std::string result = cause.has_learning_recorded()           ? v1::LearningResult_Name(cause.learning_recorded().result())
                                 : cause.has_campaign_results_recorded() ? v1::LearningResult_Name(cause.campaign_results_recorded().result())
                                                                         : "";
      const bool correction = cause.has_learning_recorded() && !cause.learning_recorded().corrects_event_id().empty();
      // The evidence as the cause holds it (a derivation recorded before 2026-12-06 copied it).
      const std::string& evidence = cause.has_learning_recorded() ? cause.learning_recorded().evidence() : p.evidence();
      o += "  because deal " + p.deal_id() + (correction ? " corrected its learning to " : " recorded ") + result +
           (correction ? " (was " + v1::LearningResult_Name(cause.learning_recorded().corrected_result()) + ")" : "") + " by " +
           cause.actor() + (evidence.empty() ? "" : ": " + evidence) + from_file(cause);
    }
    o += "\n";
    if (!c.restated().empty()) {
      const auto& was = e.assumption_confidence_changed();
      const auto& last = *c.restated().rbegin();
      o += fmt("            restated on %s (first recorded as %d %% -> %d %%): %s\n", date_of(last.event().recorded_at()).c_str(),
               was.previous(), was.confidence(),
               last.has_cause() ? (last.cause().type() + " of " + last.cause().stream() + " dated " + date_of(last.cause().occurred_at()) +
                                   " was recorded later")
                                      .c_str()
                                : "a fact dated before it was recorded later");
    }
  }
  return o;
}

std::string documents_text(const v1::DocumentsView& v) {
  if (v.documents().empty()) return "no documents (leanos import keeps the workspace files the ledger does not model)\n";
  std::string o;
  for (const auto& d : v.documents()) {
    o += fmt("%s  %s  (version %d)\n", date_of(d.written_at()).c_str(), d.path().c_str(), d.versions());
    if (!d.content().empty()) o += d.content() + (d.content().back() == '\n' ? "" : "\n") + "\n";
  }
  return o;
}

std::string files_text(const v1::FilesView& v) {
  if (v.files().empty())
    return "no files (leanos import DIR keeps every file of a workspace; import --git every commit's)\n";
  std::string o;
  for (const auto& f : v.files())
    o += fmt("%-10s %10llu  v%-3u %s  %.12s  %s%s\n", word(f.kind()).c_str(), static_cast<unsigned long long>(f.size()), f.version(),
             date_of(f.written_at()).c_str(), f.sha256().c_str(), f.path().c_str(),
             f.commit().empty() ? "" : ("  (commit " + f.commit().substr(0, 10) + ")").c_str());
  o += fmt("%d files, %llu bytes%s\n", v.files_size(), static_cast<unsigned long long>(v.total_bytes()),
           v.commit().empty() ? "" : (" at commit " + v.commit()).c_str());
  return o;
}

std::string file_log_text(const v1::FileLogView& v) {
  std::string o = v.path() + "\n";
  for (const auto& f : v.versions()) {
    o += fmt("  v%-3u %s  %-10s", f.version(), date_of(f.written_at()).c_str(), word(f.kind()).c_str());
    if (f.kind() != v1::FILE_DELETED) o += fmt(" %10llu bytes  %.12s", static_cast<unsigned long long>(f.size()), f.sha256().c_str());
    if (!f.commit().empty()) o += "  commit " + f.commit().substr(0, 10);
    o += "  by " + f.actor() + "\n";
  }
  return o;
}

std::string segments_text(const v1::SegmentsView& v) {
  if (v.segments().empty() && v.campaigns().empty()) return "no segment strategy yet (leanos segment icp / narrative, leanos campaign open)\n";
  std::string o;
  for (const auto& s : v.segments()) {
    o += "segment " + s.segment() + "\n";
    if (s.has_icp()) {
      const auto& f = s.icp().filters();
      o += fmt("  ICP v%d (%s): score %.2f", s.icp().version(), format_date(s.icp_at()).c_str(), s.icp().qualification_score());
      for (const auto& i : f.industry()) o += (&i == &f.industry(0) ? ", industry " : " / ") + i;
      if (!f.revenue_range().empty()) o += ", revenue " + f.revenue_range();
      o += "\n";
    }
    if (s.has_narrative()) o += fmt("  narrative v%d (%s)\n", s.narrative().version(), format_date(s.narrative_at()).c_str());
    for (const auto& c : v.campaigns())
      if (c.segment() == s.segment())
        o += fmt("  campaign %s: %d prospects, %d contacts, %d sent, %d responses, %d deals\n", c.campaign_id().c_str(), c.prospects(),
                 c.contacts(), c.sent(), c.responses(), c.conversions());
  }
  for (const auto& c : v.campaigns()) {
    bool shown = false;
    for (const auto& s : v.segments()) shown |= s.segment() == c.segment();
    if (!shown)
      o += fmt("campaign %s (segment %s, no ICP recorded): %d prospects, %d contacts, %d sent, %d responses, %d deals\n",
               c.campaign_id().c_str(), c.segment().c_str(), c.prospects(), c.contacts(), c.sent(), c.responses(), c.conversions());
  }
  return o;
}

std::string without_text(const v1::Without& w) {
  switch (w.what_case()) {
    case v1::Without::kDealId: return "deal " + w.deal_id();
    case v1::Without::kCampaignId: return "campaign:" + w.campaign_id();
    case v1::Without::kEventId: return "event:" + w.event_id();
    case v1::Without::kTypeFrom: return w.type_from().type() + "@" + w.type_from().from();
    case v1::Without::WHAT_NOT_SET: break;
  }
  return "?";
}

std::string scenarios_text(const v1::ScenariosView& v) {
  if (v.scenarios().empty()) return "no saved scenarios (leanos whatif VIEW … --save NAME saves one)\n";
  std::string o;
  for (const auto& s : v.scenarios()) {
    o += fmt("%s  v%u  saved %s by %s%s\n", s.name().c_str(), s.version(), date_of(s.saved_at()).c_str(), s.saved_by().c_str(),
             s.as_of().empty() && s.known_at().empty()
                 ? ""
                 : ("  (read as of " + (s.as_of().empty() ? std::string("now") : s.as_of()) +
                    (s.known_at().empty() ? "" : ", known at " + s.known_at()) + ")").c_str());
    if (!s.description().empty()) o += "  " + s.description() + "\n";
    for (const auto& w : s.without()) o += "  without " + without_text(w) + "\n";
    for (const auto& c : s.with()) {
      const auto* payload = payload_of(c);
      o += "  with    " + c.type() + " " + (payload ? payload->ShortDebugString() : std::string()) +
           (c.has_occurred_at() ? " at " + date_of(c.occurred_at()) : std::string()) + "\n";
    }
  }
  return o;
}

std::string view_text(const v1::QueryReply& r) {
  switch (r.view_case()) {
    case v1::QueryReply::kCanvas: return canvas_text(r.canvas());
    case v1::QueryReply::kGoal: return goal_text(r.goal());
    case v1::QueryReply::kMetrics: return metrics_text(r.metrics());
    case v1::QueryReply::kOpportunities: return opportunities_text(r.opportunities());
    case v1::QueryReply::kToday: return today_text(r.today());
    case v1::QueryReply::kPipeline: return pipeline_text(r.pipeline());
    case v1::QueryReply::kDeals: return deal_list_text(r.deals());
    case v1::QueryReply::kDeal: return deal_thread_text(r.deal());
    case v1::QueryReply::kCampaign: return campaign_view_text(r.campaign());
    case v1::QueryReply::kAudit: return audit_text(r.audit());
    case v1::QueryReply::kWhyCanvas: return assumption_history_text(r.why_canvas());
    case v1::QueryReply::kCampaignContact: return view_json(r);
    case v1::QueryReply::kDocuments: return documents_text(r.documents());
    case v1::QueryReply::kSegments: return segments_text(r.segments());
    case v1::QueryReply::kFiles: return files_text(r.files());
    case v1::QueryReply::kFileLog: return file_log_text(r.file_log());
    case v1::QueryReply::kScenarios: return scenarios_text(r.scenarios());
    case v1::QueryReply::VIEW_NOT_SET: break;
  }
  return "";
}

}  // namespace leanos::cli
