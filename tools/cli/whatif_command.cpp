// `leanos whatif VIEW [ID] [--without X]… [--with 'COMMAND']… [--as-of D] [--known-at T]`: a
// view on a branch of the ledger beside reality (actors/whatif.h), through the Ledger (the
// data folder's, or --server's). A `--with` is a recording command as the CLI takes it
// (`deal close zeta won --arr 480000 --at 2026-04-15`), parsed by the same commands in a mode
// that hands over the command instead of recording it.
#include <wordexp.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "events/domain.h"
#include "tools/cli/cli.h"
#include "tools/cli/time_travel.h"
#include "tools/cli/view_text.h"
#include "tools/cli/views.h"

namespace leanos::cli {

namespace {

// `--with 'deal close zeta won --arr 480000'`: its words as a shell would split them (quotes,
// escapes; no expansion of commands or variables: wordexp with WRDE_NOCMD | WRDE_UNDEF).
Result<std::vector<std::string>> words_of(const std::string& text) {
  wordexp_t w{};
  const int r = ::wordexp(text.c_str(), &w, WRDE_NOCMD | WRDE_UNDEF);
  if (r != 0) {
    if (r == WRDE_NOSPACE) ::wordfree(&w);
    return Status::invalid("--with '" + text + "': " +
                           (r == WRDE_BADCHAR ? "a character the shell would treat specially (| & ; < > ( ) { } or a newline): quote it"
                            : r == WRDE_CMDSUB ? "no command substitution ($(...) or `...`) in a scenario"
                            : r == WRDE_BADVAL ? "no variables in a scenario"
                                               : "unbalanced quotes"));
  }
  std::vector<std::string> out(w.we_wordv, w.we_wordv + w.we_wordc);
  ::wordfree(&w);
  return out;
}

// The command a `--with` names, as the CLI would record it (not recorded: captured).
Result<std::vector<Envelope>> command_of_text(const GlobalOptions& g, const std::string& text) {
  auto words = words_of(text);
  if (!words) return words.status();
  if (words->empty()) return Status::invalid("--with '': give a recording command, e.g. 'deal close zeta won --arr 480000 --at 2026-04-15'");
  std::vector<Envelope> captured;
  GlobalOptions capture = g;
  capture.json = false;
  capture.capture = &captured;
  CLI::App app{"a what-if command", "leanos whatif --with"};
  app.require_subcommand(1);
  Action action;
  add_domain_commands(app, capture, action);
  std::vector<std::string> args(words->rbegin(), words->rend());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return Status::invalid("--with '" + text + "': " + e.what());
  }
  if (!action) return Status::invalid("--with '" + text + "' names no recording command (e.g. 'deal close zeta won --arr 480000')");
  if (const int code = action(); code != 0)
    return Status::invalid("--with '" + text + "' was refused as a command (see above)");
  if (captured.empty()) return Status::invalid("--with '" + text + "' records nothing: give a recording command");
  return captured;
}

// `--without`: a deal id, or campaign:ID, event:ID, deal:ID, TYPE@DATE.
Result<v1::Without> without_of(const std::string& text) {
  v1::Without w;
  auto after = [&](const char* prefix) { return text.substr(std::string(prefix).size()); };
  if (const auto at = text.find('@'); at != std::string::npos) {
    w.mutable_type_from()->set_type(text.substr(0, at));
    w.mutable_type_from()->set_from(text.substr(at + 1));
  } else if (text.rfind("campaign:", 0) == 0) {
    w.set_campaign_id(after("campaign:"));
  } else if (text.rfind("event:", 0) == 0) {
    w.set_event_id(after("event:"));
  } else if (text.rfind("deal:", 0) == 0) {
    w.set_deal_id(after("deal:"));
  } else if (!text.empty()) {
    w.set_deal_id(text);
  } else {
    return Status::invalid("--without '': give a deal id, campaign:ID, event:ID or TYPE@DATE (LearningRecorded@2026-02-01)");
  }
  return w;
}

struct Args {
  std::string view, id, segment, scenario, save, description;
  std::vector<std::string> without, with;
  TimeTravelOptions time;
};

Result<v1::QueryRequest> view_query(const Args& a) {
  v1::QueryRequest q;
  if (a.view == "canvas") q.mutable_canvas();
  else if (a.view == "goal") {
    if (a.id.empty()) return Status::invalid("whatif goal needs the goal's id: leanos whatif goal g-mrr-50k …");
    q.mutable_goal()->set_goal_id(a.id);
  } else if (a.view == "today") q.mutable_today();
  else if (a.view == "metrics") q.mutable_metrics()->set_segment(a.segment);
  else if (a.view == "pipeline") q.mutable_pipeline()->set_segment(a.segment);
  else if (a.view == "deals") q.mutable_deals()->set_segment(a.segment);
  else if (a.view == "opportunities") q.mutable_opportunities();
  else if (a.view == "segments") q.mutable_segments();
  else
    return Status::invalid("whatif reads canvas, goal ID, today, metrics, pipeline, deals, opportunities or segments; not '" + a.view + "'");
  if (!a.id.empty() && a.view != "goal") return Status::invalid("'" + a.id + "': only whatif goal takes an id");
  a.time.into(q);
  return q;
}

int run(const GlobalOptions& g, const Args& a) {
  v1::WhatIfRequest request;
  auto q = view_query(a);
  if (!q) return fail(q.status());
  *request.mutable_query() = std::move(*q);
  for (const auto& w : a.without) {
    auto parsed = without_of(w);
    if (!parsed) return fail(parsed.status());
    *request.add_without() = std::move(*parsed);
  }
  for (const auto& w : a.with) {
    auto commands = command_of_text(g, w);
    if (!commands) return fail(commands.status());
    for (auto& c : *commands) *request.add_with() = std::move(c);
  }
  request.set_scenario(a.scenario);
  request.set_save(a.save);
  request.set_description(a.description);
  request.set_actor(actor_or_default(g));
  if (!a.description.empty() && a.save.empty()) return fail(Status::invalid("--description describes a scenario saved with --save NAME"));
  auto ledger = open_ledger(g, a.save.empty() ? Access::only_read : Access::record);
  if (!ledger) return fail(ledger.status());
  auto reply = (*ledger)->what_if(request);
  if (!reply) return fail(reply.status());
  if (g.json) {
    out("%s\n", whatif_tree(*reply).dump().c_str());
    return 0;
  }
  if (reply->has_scenario())
    out("scenario %s (version %u, saved %s by %s)%s\n", reply->scenario().name().c_str(), reply->scenario().version(),
        date_of(reply->scenario().saved_at()).c_str(), reply->scenario().saved_by().c_str(),
        reply->scenario().description().empty() ? "" : (": " + reply->scenario().description()).c_str());
  out("what if: %u events of the log left out, %u added; %s\n\n", reply->events_left_out(), reply->events_added(),
      !reply->has_saved() ? "nothing recorded"
                          : ("the scenario is saved as " + reply->saved().name() + ", version " + std::to_string(reply->saved().version()) +
                             " (its definition, never its effects: leanos scenarios " + reply->saved().name() + ")")
                                .c_str());
  out("%s", view_text(reply->branch()).c_str());
  if (reply->differences().empty()) {
    out("\nthe same as reality\n");
    return 0;
  }
  std::size_t width = 10;
  for (const auto& d : reply->differences()) width = std::max(width, d.path().size());
  out("\n%-*s  %-20s  %s\n", static_cast<int>(width), "differs from reality", "reality", "branch");
  for (const auto& d : reply->differences())
    out("%-*s  %-20s  %s\n", static_cast<int>(width), d.path().c_str(), d.reality().c_str(), d.branch().c_str());
  return 0;
}

}  // namespace

void add_whatif_command(CLI::App& app, GlobalOptions& g, Action& action) {
  auto a = std::make_shared<Args>();
  auto* s = app.add_subcommand("whatif",
                               "a view on a branch of the ledger beside reality: some of what happened left out, some of what might happen "
                               "added (decided by the same rules), and what differs; nothing is recorded");
  s->add_option("view", a->view, "canvas | goal | today | metrics | pipeline | deals | opportunities | segments")->required();
  s->add_option("id", a->id, "the goal's id (whatif goal g-mrr-50k)");
  s->add_option("--segment", a->segment, "metrics, pipeline or deals of one segment");
  s->add_option("--without", a->without,
                "leave out a deal (its id), campaign:ID, event:ID, or TYPE@DATE (every TYPE event from DATE on); with what each caused");
  s->add_option("--with", a->with,
                "add a command as the CLI takes it, quoted: 'deal close zeta won --arr 480000 --at 2026-04-15' (past or future dates)");
  s->add_option("--scenario", a->scenario, "run a saved scenario (its latest version) against the log as it is now; --without and --with add to it");
  s->add_option("--save", a->save,
                "save the scenario by this name once it reads (its definition is recorded, its effects never): list with leanos scenarios");
  s->add_option("--description", a->description, "with --save: the question the scenario asks");
  add_time_travel(s, a->time);
  s->callback([&g, &action, a] { action = [&g, a] { return run(g, *a); }; });
}

}  // namespace leanos::cli
