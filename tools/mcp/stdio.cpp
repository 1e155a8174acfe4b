// MCP's stdio transport: one JSON-RPC message a line on stdin, answers and notifications a
// line on stdout, nothing else on stdout (logs go to stderr).
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "tools/mcp/mcp.h"
#include "tools/mcp/protocol.h"

namespace leanos::mcp {

int serve_stdio(Ledger& ledger, const Options& options, int in, std::FILE* out) {
  std::signal(SIGPIPE, SIG_IGN);  // a client gone: a failed write, not a dead process
  std::mutex out_mu;
  bool out_closed = false;
  auto send = [&](const nlohmann::json& message) {
    // Text from the ledger is UTF-8 already; replace keeps a stray byte from ending the answer.
    const std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard lock(out_mu);
    if (out_closed) return;
    // A client that does not read blocks this write, and with it the reading of the next
    // message: memory stays bounded by one message.
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0) out_closed = true;
  };
  Server server(ledger, options, send);

  std::string message;
  bool too_large = false;
  char buffer[1 << 16];
  auto finish = [&] {
    if (too_large) {
      send(Server::error(nullptr, kInvalidRequest,
                         "message larger than " + std::to_string(kMaxMessageBytes >> 20) + " MiB; it was read and dropped"));
    } else {
      if (!message.empty() && message.back() == '\r') message.pop_back();
      if (message.find_first_not_of(" \t") != std::string::npos) {
        auto parsed = nlohmann::json::parse(message, nullptr, false);
        if (parsed.is_discarded()) send(Server::error(nullptr, kParseError, "not JSON: a message is one JSON-RPC 2.0 object on one line"));
        else if (auto answer = server.handle(parsed)) send(*answer);
      }
    }
    message.clear();
    too_large = false;
  };
  for (;;) {
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (const char* p = buffer; p < buffer + n;) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(buffer + n - p)));
      const char* end = newline ? newline : buffer + n;
      if (!too_large) {
        message.append(p, end);
        if (message.size() > kMaxMessageBytes) {
          too_large = true;
          message.clear();
          message.shrink_to_fit();
        }
      }
      p = end;
      if (newline) {
        finish();
        ++p;
      }
    }
    std::lock_guard lock(out_mu);
    if (out_closed) break;
  }
  if (!message.empty() || too_large) finish();  // a last message without its newline
  return 0;
}

void add_mcp_command(CLI::App& app, cli::GlobalOptions& g, cli::Action& action) {
  auto read_only = std::make_shared<bool>(false);
  auto* s = app.add_subcommand("mcp", "serve the Model Context Protocol on stdin/stdout: the commands and views as tools, "
                                      "views as resources, the routines as prompts (for AI agents)");
  s->add_flag("--read-only", *read_only, "offer the views only, no command");
  s->callback([&g, &action, read_only] {
    action = [&g, read_only]() -> int {
      auto ledger = cli::open_ledger(g, *read_only ? cli::Access::read : cli::Access::record);
      if (!ledger) return cli::fail(ledger.status());
      Options options{*read_only, g.actor, "", true};
      spdlog::info("mcp: serving {} on stdio", g.server.empty() ? g.data : g.server);
      return serve_stdio(**ledger, options, STDIN_FILENO, stdout);
    };
  });
}

}  // namespace leanos::mcp
