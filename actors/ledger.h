// One interface for what every surface does with a workspace: record commands through the
// rules, ask for a view, append and read raw events, forget a data subject. The CLI, the gRPC
// and HTTP servers (and any adapter after them) call a `Ledger`; where it lives is the
// adapter's business:
//
//   LocalLedger   this process: the store, the actor runtime (started on the first command)
//                 and the query layer (actors/queries.h).
//   RemoteLedger  a running `leanos serve` over gRPC (tools/server/client.h), the same calls
//                 answered by a LocalLedger on the other side.
//
// Every method says what was wrong as a Status (a rule's rejection with its id, parameters
// and hint); none prints, none exits.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/commands.h"
#include "leanos/v1/query.pb.h"
#include "leanos/v1/whatif.pb.h"
#include "leanos/v1/workspace.pb.h"
#include "store/event_store.h"

namespace leanos {

class Runtime;

// A page of the log: the whole log by position, or one stream by version.
struct ReadRequest {
  std::string stream;      // "" = the whole log
  std::uint64_t from = 1;  // position (whole log) or stream version; backward from 0 = the newest
  bool backward = false;   // one stream, newest first
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();  // a page stops before passing it (one event at least)
  // The whole log by recording time instead (both ends inclusive; the data folder's index).
  std::optional<Micros> recorded_from, recorded_to;
};

// A subscription to the log (Ledger::follow): it runs until destroyed.
class Following {
 public:
  virtual ~Following() = default;
};

// A LeanOS workspace folder to import (Ledger::import_folder).
struct ImportFolder {
  std::string dir;  // on this process's machine
  v1::ImportOptions options;
  // Told before each unit is recorded: how many are done, of how many, and its name (a
  // LocalLedger's import only).
  std::function<void(std::size_t done, std::size_t total, const std::string& unit)> progress;
};

class Ledger {
 public:
  using OnPage = std::function<void(const std::vector<Envelope>&)>;
  using OnEnd = std::function<void(const Status&)>;

  virtual ~Ledger() = default;
  // Domain commands through the rules: one batch is decided by the actor of its first
  // command's stream and appended whole or not at all. Returns what was recorded once what
  // it causes (canvas, goals, marketing) is derived too.
  virtual Result<Handled> submit(std::vector<Envelope> commands) = 0;
  // A typed view, with time travel on both axes (QueryRequest.as_of, known_at, at_position).
  virtual Result<v1::QueryReply> query(const v1::QueryRequest& request) = 0;
  // Generic events to a stream of the caller's own (check_raw_append); no rules.
  virtual Result<store::AppendResult> append(const std::string& stream, const std::string& expected_version,
                                             std::vector<Envelope> events) = 0;
  virtual Result<std::vector<Envelope>> read(const ReadRequest& request) = 0;
  // Crypto-shreds a data subject's personal fields (store/personal.h).
  virtual Result<store::ForgetResult> forget(const std::string& subject, const std::string& reason, const std::string& actor) = 0;
  // The log from position `from` on (0: from its end as it is now), in position order: what
  // it holds, then each event once it is recorded, whoever records it. `on_page` runs on a
  // thread of the subscription's own, one page at a time; `on_end` once if it breaks off (a
  // server gone). Neither runs after the subscription is destroyed, which must be before the
  // ledger is.
  virtual Result<std::unique_ptr<Following>> follow(std::uint64_t from, OnPage on_page, OnEnd on_end) = 0;
  // A LeanOS workspace folder: every file as written (the files layer), and the facts its
  // files state through the rules, fact by fact; the report names what was recorded, what
  // reading assumed, what was refused and why. A RemoteLedger sends the folder's files.
  virtual Result<v1::ImportReport> import_folder(const ImportFolder& request) = 0;
  // The bytes of a workspace file's version, by the SHA-256 the files views give (checkout,
  // files diff). not_found when the ledger holds no such content.
  virtual Result<std::string> read_file(const std::string& sha256) = 0;
  // A view on a what-if branch beside reality, and what differs (actors/whatif.h); nothing is
  // recorded.
  virtual Result<v1::WhatIfReply> what_if(const v1::WhatIfRequest& request) = 0;
};

// The ledger of a store in this process.
class LocalLedger final : public Ledger {
 public:
  // What reads a workspace folder (tools/bridge, above this layer): given by whoever builds
  // the ledger with it (the CLI, the server, the MCP server); without one, import_folder is
  // refused, named.
  using Importer = std::function<Result<v1::ImportReport>(LocalLedger&, const ImportFolder&)>;
  using Clock = std::function<Micros()>;  // "now" for the views' time-measuring rules
  // When the actor runtime starts. A server starts it at once: its process managers catch up
  // on what the log holds (what a crash left underived) before the first call, not at the
  // first command. A CLI command that only reads never starts it.
  enum class Start { on_first_command, now };
  // Over a store the caller keeps open for longer than the ledger.
  explicit LocalLedger(store::EventStore& store, Start start = Start::on_first_command, Clock clock = now_micros);
  // Owning the store.
  explicit LocalLedger(std::unique_ptr<store::EventStore> store, Start start = Start::on_first_command, Clock clock = now_micros);
  ~LocalLedger() override;  // stops the runtime (if one was started), then closes an owned store
  LocalLedger(const LocalLedger&) = delete;
  LocalLedger& operator=(const LocalLedger&) = delete;

  Result<Handled> submit(std::vector<Envelope> commands) override;
  Result<v1::QueryReply> query(const v1::QueryRequest& request) override;
  Result<store::AppendResult> append(const std::string& stream, const std::string& expected_version,
                                     std::vector<Envelope> events) override;
  Result<std::vector<Envelope>> read(const ReadRequest& request) override;
  Result<store::ForgetResult> forget(const std::string& subject, const std::string& reason, const std::string& actor) override;
  Result<std::unique_ptr<Following>> follow(std::uint64_t from, OnPage on_page, OnEnd on_end) override;
  Result<v1::ImportReport> import_folder(const ImportFolder& request) override;
  Result<std::string> read_file(const std::string& sha256) override;
  Result<v1::WhatIfReply> what_if(const v1::WhatIfRequest& request) override;

  void set_importer(Importer importer) { importer_ = std::move(importer); }
  store::EventStore& store() { return store_; }
  // The actor runtime, started on first use.
  Runtime& runtime();

 private:
  std::unique_ptr<store::EventStore> owned_;
  store::EventStore& store_;
  Clock clock_;
  std::unique_ptr<Runtime> runtime_;
  Importer importer_;
};

}  // namespace leanos
