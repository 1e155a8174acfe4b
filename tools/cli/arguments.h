// What the CLI does with arguments a person mistyped: numbers that do not fit are refused
// (never clamped), unknown subcommands are named with the closest ones, every missing
// required option is listed at once, and every usage error exits 2 like any invalid argument.
#pragma once

#include <google/protobuf/descriptor.h>

#include <CLI/CLI.hpp>

namespace leanos::cli {

// Adds a strict check to every numeric option of `app` and its subcommands (call after every
// option is registered): a whole number in range for INT/UINT options, a finite decimal
// number for FLOAT ones, each error naming what was expected.
void add_number_checks(CLI::App& app);
// Every subcommand's --help ends with the global options (--data, --json, --server, ...).
void add_global_options_footer(CLI::App& app);

// Accepts the words of an enum of the schema (their `word` option: "open", "won", ...) and
// names them all when given anything else.
CLI::Validator enum_words(const google::protobuf::EnumDescriptor* type);

// Prints a parse error as "leanos: invalid argument: …" with what would be right and returns
// the exit code: 0 for --help, 2 for every usage error.
int report_parse_error(CLI::App& app, const CLI::ParseError& error, int argc, char** argv);

}  // namespace leanos::cli
