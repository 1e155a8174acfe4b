// `leanos segment …`: per-segment strategy: ICP, narrative, materials, feedback.
#include <cstdio>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "tools/cli/cli.h"
#include "tools/cli/recording.h"
#include "tools/cli/icp.h"

namespace leanos::cli {

namespace {

Result<v1::IcpDefined> read_icp(const std::string& path, const std::string& segment, const std::string& encoding) {
  auto text = read_text_file(path, encoding);
  if (!text) return text.status();
  return parse_icp(*text, path, segment);
}

}  // namespace

// ---- segment strategy -------------------------------------------------------------------------

void add_segment_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* seg = app.add_subcommand("segment", "per-segment strategy: ICP, narrative, materials");
  seg->require_subcommand(1);
  {
    struct A { Recorded r; std::string segment, file; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("icp", "record the segment's ICP from a YAML or JSON file (a new version)");
    s->add_option("segment", a->segment, "the segment (a slug, e.g. mid-market)")->required();
    s->add_option("--file", a->file, "icp.yaml or icp.json")->required();
    add_recorded(s, a->r);
    add_encoding(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        auto icp = read_icp(a->file, a->segment, a->r.encoding);
        if (!icp) return fail(icp.status());
        return submit(g, *icp, a->r);
      };
    });
  }
  {
    struct A { Recorded r; std::string segment, problem, solution, specifics; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("narrative", "record the sales narrative: problem, solution, specifics (files)");
    s->add_option("segment", a->segment, "the segment (a slug, e.g. mid-market)")->required();
    s->add_option("--problem", a->problem, "problem-narrative.md")->required();
    s->add_option("--solution", a->solution, "solution-narrative.md")->required();
    s->add_option("--specifics", a->specifics, "specifics-narrative.md")->required();
    add_encoding(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::NarrativeWritten> {
      v1::NarrativeWritten p;
      p.set_segment(a.segment);
      for (auto [path, setter] : {std::pair{a.problem, &v1::NarrativeWritten::set_problem<const std::string&>},
                                  std::pair{a.solution, &v1::NarrativeWritten::set_solution<const std::string&>},
                                  std::pair{a.specifics, &v1::NarrativeWritten::set_specifics<const std::string&>}}) {
        auto text = read_text_file(path, a.r.encoding);
        if (!text) return text.status();
        (p.*setter)(*text);
      }
      return p;
    });
  }
  {
    struct A { Recorded r; std::string segment, kind, file, title; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("materials", "publish a sales material (a new version of it)");
    s->add_option("segment", a->segment, "the segment (a slug, e.g. mid-market)")->required();
    s->add_option("--kind", a->kind,
                  "pitch-deck|one-pager|call-scripts|email-templates|pilot-agreement|contract-template")->required();
    s->add_option("--file", a->file, "the material (markdown)")->required();
    s->add_option("--title", a->title, "the material's title (default: the --kind)");
    add_encoding(s, a->r);
    on_record(s, g, action, a, [](const auto& a) -> Result<v1::MaterialPublished> {
      v1::MaterialPublished p;
      p.set_segment(a.segment);
      auto k = parse_material_kind(a.kind);
      if (!k) return k.status();
      p.set_kind(*k);
      auto text = read_text_file(a.file, a.r.encoding);
      if (!text) return text.status();
      p.set_content(*text);
      p.set_title(a.title.empty() ? a.kind : a.title);
      return p;
    });
  }
  {
    struct A { Recorded r; std::string segment, kind, deal, note; bool positive = false, negative = false; };
    auto a = std::make_shared<A>();
    auto* s = seg->add_subcommand("feedback", "materials quality: a deck approved, an email answered, a proposal accepted");
    s->add_option("segment", a->segment, "the segment (a slug, e.g. mid-market)")->required();
    s->add_option("--kind", a->kind, "the material: pitch-deck|one-pager|call-scripts|email-templates|pilot-agreement|contract-template")->required();
    s->add_flag("--positive", a->positive, "approved / responded / accepted");
    s->add_flag("--negative", a->negative, "rejected / no response / declined");
    s->add_option("--deal", a->deal, "the deal it came from, if any");
    s->add_option("--note", a->note, "what was said (personal data: sealed)");
    add_recorded(s, a->r);
    s->callback([&, a] {
      action = [&g, a] {
        if (a->positive == a->negative) return fail(Status::invalid("give exactly one of --positive or --negative"));
        v1::MaterialFeedback p;
        p.set_segment(a->segment);
        auto k = parse_material_kind(a->kind);
        if (!k) return fail(k.status());
        p.set_kind(*k);
        p.set_positive(a->positive);
        p.set_deal_id(a->deal);
        p.set_note(a->note);
        return submit(g, p, a->r);
      };
    });
  }
}


}  // namespace leanos::cli
