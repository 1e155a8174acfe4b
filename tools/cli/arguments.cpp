#include "tools/cli/arguments.h"

#include "events/domain.h"

#include "events/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>

namespace leanos::cli {

namespace {

std::string expected_text(const CLI::Option* o, const std::string& kind) {
  const std::string& d = o->get_description();
  return d.empty() ? kind : kind + " (" + d + ")";
}

template <class Int>
std::string check_whole(const CLI::Option* o, const std::string& v) {
  Int n{};
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  const std::string kind = std::is_signed_v<Int> ? "a whole number" : "a whole number, 0 or more";
  if (ec == std::errc::result_out_of_range)
    return "'" + v + "' is out of range; expected " + expected_text(o, kind) + " from " +
           std::to_string(std::numeric_limits<Int>::min()) + " to " + std::to_string(std::numeric_limits<Int>::max());
  if (ec != std::errc() || end != v.data() + v.size() || v.empty())
    return "expected " + expected_text(o, kind) + ", got '" + v + "'";
  return {};
}

std::string check_decimal(const CLI::Option* o, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d) || std::isspace(static_cast<unsigned char>(v[0])))
    return "expected " + expected_text(o, "a decimal number such as 0.75") + ", got '" + v + "'";
  if (std::abs(d) > 1e15) return "'" + v + "' is out of range; expected " + expected_text(o, "a number below 10^15");
  return {};
}

void add_checks(CLI::App* app) {
  for (CLI::Option* o : app->get_options()) {
    const std::string type = o->get_type_name();
    if (type == "INT")
      o->check(CLI::Validator([o](std::string& v) { return check_whole<std::int64_t>(o, v); }, "", "whole-number"));
    else if (type == "UINT")
      o->check(CLI::Validator([o](std::string& v) { return check_whole<std::uint64_t>(o, v); }, "", "count"));
    else if (type == "FLOAT")
      o->check(CLI::Validator([o](std::string& v) { return check_decimal(o, v); }, "", "decimal"));
  }
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) add_checks(sub);
}

const CLI::Option* find_option(CLI::App* app, const std::string& name) {
  for (CLI::App* a = app; a != nullptr; a = a->get_parent())
    if (const auto* o = a->get_option_no_throw(name)) return o;
  return nullptr;
}

// "unknown command 'shwo' …" when the command line names a subcommand that does not exist.
std::optional<std::string> unknown_subcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path = "leanos";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg.find('=') != std::string::npos) continue;
      const auto* o = find_option(current, arg);
      if (o != nullptr && o->get_type_size_max() > 0) ++i;  // its value
      continue;
    }
    auto subs = current->get_subcommands([](CLI::App*) { return true; });
    auto it = std::find_if(subs.begin(), subs.end(), [&](CLI::App* s) { return s->check_name(arg); });
    if (it != subs.end()) {
      current = *it;
      path += " " + arg;
      continue;
    }
    if (subs.empty()) return std::nullopt;  // a positional argument of a command
    std::vector<std::pair<std::size_t, std::string>> ranked;
    for (CLI::App* s : subs) ranked.emplace_back(edit_distance(arg, s->get_name()), s->get_name());
    std::sort(ranked.begin(), ranked.end());
    std::string msg = "'" + path + "' has no command '" + arg + "'";
    std::vector<std::string> close;
    for (const auto& [d, name] : ranked)
      if (d <= std::max<std::size_t>(2, arg.size() / 3) && close.size() < 3) close.push_back(name);
    if (!close.empty()) {
      msg += "; did you mean ";
      for (std::size_t k = 0; k < close.size(); ++k) msg += (k ? (k + 1 == close.size() ? " or " : ", ") : "") + ("'" + close[k] + "'");
      msg += "?";
    } else {
      msg += "; its commands are:";
      std::vector<std::string> names;
      for (const auto& r : ranked) names.push_back(r.second);
      std::sort(names.begin(), names.end());
      for (const auto& n : names) msg += " " + n;
    }
    return msg + " (`" + path + " --help` lists them)";
  }
  return std::nullopt;
}

// "'leanos deal close' has no option '--currency'; did you mean '--cost'?" for the first
// option the command line gives that the command it reached does not take, and "does not take
// the argument 'usd'" for a word left over (a value given to a flag, or one too many).
std::optional<std::string> unknown_option(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path = "leanos";
  std::size_t positionals = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      const std::string name = arg.substr(0, arg.find('='));
      const auto* o = find_option(current, name);
      if (o != nullptr) {
        if (o->get_type_size_max() > 0 && arg.find('=') == std::string::npos) ++i;  // its value
        continue;
      }
      std::vector<std::pair<std::size_t, std::string>> ranked;
      for (CLI::App* a = current; a != nullptr; a = a->get_parent())
        for (const CLI::Option* x : a->get_options())
          for (const auto& long_name : x->get_lnames()) ranked.emplace_back(edit_distance(name, "--" + long_name), "--" + long_name);
      std::sort(ranked.begin(), ranked.end());
      std::string msg = "'" + path + "' has no option '" + name + "'";
      if (!ranked.empty() && ranked.front().first <= std::max<std::size_t>(1, (name.size() - 2) / 3))
        msg += "; did you mean '" + ranked.front().second + "'?";
      return msg + " (`" + path + " --help` shows the options)";
    }
    auto subs = current->get_subcommands([](CLI::App*) { return true; });
    auto it = std::find_if(subs.begin(), subs.end(), [&](CLI::App* s) { return s->check_name(arg); });
    if (it != subs.end() && positionals == 0) {
      current = *it;
      path += " " + arg;
      continue;
    }
    std::size_t takes = 0;
    for (const CLI::Option* o : current->get_options())
      if (o->get_positional()) takes += static_cast<std::size_t>(std::max(1, o->get_items_expected_max() > 1000 ? 1000 : o->get_items_expected_max()));
    if (++positionals > takes)
      return "'" + path + "' does not take the argument '" + arg + "'" +
             (i > 1 && argv[i - 1][0] == '-' ? " (" + std::string(argv[i - 1]) + " takes no value)" : "") + " (`" + path +
             " --help` shows what it takes)";
  }
  return std::nullopt;
}

// Every required option missing from the parsed commands, not only the first.
std::string all_missing(CLI::App& app) {
  std::vector<std::string> missing;
  std::string path = "leanos";
  CLI::App* current = &app;
  for (;;) {
    for (const CLI::Option* o : current->get_options())
      if (o->get_required() && o->count() == 0) missing.push_back(o->get_name(o->get_positional(), true));
    auto parsed = current->get_subcommands();
    if (parsed.empty()) break;
    current = parsed.front();
    path += " " + current->get_name();
  }
  if (missing.empty()) return {};
  std::string msg = "'" + path + "' is missing ";
  for (std::size_t k = 0; k < missing.size(); ++k)
    msg += (k ? (k + 1 == missing.size() ? " and " : ", ") : "") + missing[k];
  return msg + " (`" + path + " --help` shows what each takes)";
}

// The deepest command the parse reached, for "run `leanos deal open --help`".
std::string parsed_path(CLI::App& app) {
  std::string path = "leanos";
  for (CLI::App* current = &app;;) {
    auto parsed = current->get_subcommands();
    if (parsed.empty()) return path;
    current = parsed.front();
    path += " " + current->get_name();
  }
}

}  // namespace

void add_number_checks(CLI::App& app) { add_checks(&app); }

void add_global_options_footer(CLI::App& app) {
  // A subcommand's --help lists its own options; the global ones (accepted before or after
  // it) are told in its footer, from the options themselves.
  std::string text = "Global options (before or after the command):\n";
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_positional() || o->get_name() == "--help" || o->get_name() == "-h,--help") continue;
    std::string name = o->get_name(false, true);
    if (!o->get_type_name().empty()) name += " " + o->get_type_name();  // a flag has none
    text += "  " + name + std::string(name.size() < 30 ? 30 - name.size() : 1, ' ') + o->get_description() + "\n";
  }
  std::function<void(CLI::App*)> each = [&](CLI::App* a) {
    for (CLI::App* sub : a->get_subcommands([](CLI::App*) { return true; })) {
      sub->footer(text);
      each(sub);
    }
  };
  each(&app);
}

int report_parse_error(CLI::App& app, const CLI::ParseError& error, int argc, char** argv) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help
  std::string message;
  if (auto typo = unknown_subcommand(app, argc, argv)) {
    message = *typo;
  } else if (dynamic_cast<const CLI::RequiredError*>(&error) != nullptr) {
    message = all_missing(app);
    if (message.empty()) {
      CLI::App* deepest = &app;
      while (!deepest->get_subcommands().empty()) deepest = deepest->get_subcommands().front();
      std::vector<std::string> names;
      for (CLI::App* s : deepest->get_subcommands([](CLI::App*) { return true; })) names.push_back(s->get_name());
      std::sort(names.begin(), names.end());
      message = "'" + parsed_path(app) + "' needs a command:";
      for (const auto& n : names) message += " " + n;
    }
  } else if (auto unknown = dynamic_cast<const CLI::ExtrasError*>(&error) ? unknown_option(app, argc, argv) : std::nullopt) {
    message = *unknown;
  } else {
    message = std::string(error.what()) + " (`" + parsed_path(app) + " --help` shows the options)";
  }
  std::cerr << "leanos: invalid argument: " << message << "\n";
  return 2;
}

CLI::Validator enum_words(const google::protobuf::EnumDescriptor* type) {
  return CLI::Validator(
      [type](std::string& value) -> std::string {
        if (from_word(type, value)) return {};
        return "'" + value + "' is not one of " + words_of(type);
      },
      words_of(type));
}

}  // namespace leanos::cli
