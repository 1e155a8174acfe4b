// The log past one machine: `leanos relay` into real nats-server processes (one, and a
// three-node JetStream cluster with R3), `leanos restore --from-nats` back into a new folder,
// every step through the real binary. A restored folder must equal the original byte for
// byte: its log, and the state its folds and snapshots give.
#include <doctest/doctest.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "actors/ledger_reader.h"
#include "projections/views.h"
#include "store/nats.h"
#include "tests/server_support.h"
#include "tests/lazy_disk.h"
#include "tests/support.h"

using namespace leanos;
using test::run_leanos;
using test::files_holding;

namespace {

// A child process whose output (stdout and stderr) the test reads line by line as it comes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) : args_(std::move(args)) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      FILE* in = fdopen(fd, "r");
      char line[4096];
      while (std::fgets(line, sizeof line, in)) {
        std::lock_guard lock(mu_);
        lines_.emplace_back(line);
        cv_.notify_all();
      }
      std::fclose(in);
      std::lock_guard lock(mu_);
      eof_ = true;
      cv_.notify_all();
    });
  }
  ~Child() {
    if (pid_ > 0) kill9();
    if (reader_.joinable()) reader_.join();
  }
  // Waits until a line holds `needle` (true), or the output ends or `limit` passes (false).
  bool wait_line(const std::string& needle, std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, limit, [&] { return has(needle) || eof_; });
    return has(needle);
  }
  // Asks the process to end (SIGTERM) and waits for it.
  int stop() { return end(SIGTERM); }
  int kill9() { return end(SIGKILL); }
  std::string output() {
    std::lock_guard lock(mu_);
    std::string all;
    for (const auto& l : lines_) all += l;
    return all;
  }

 private:
  int end(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  bool has(const std::string& needle) const {  // under mu_
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// A loopback port nobody listens on now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A nats-server with JetStream on a folder of its own; in a cluster, routed to its peers.
class NatsNode {
 public:
  NatsNode(std::string dir, std::string name, std::vector<int> routes = {}, int cluster_port = 0)
      : dir_(std::move(dir)), name_(std::move(name)), port_(free_port()), cluster_port_(cluster_port), routes_(std::move(routes)) {}
  void start() {
    std::vector<std::string> args = {NATS_SERVER, "-a", "127.0.0.1", "-p", std::to_string(port_), "-js", "-sd", dir_, "-n", name_};
    if (cluster_port_) {
      std::string routes;
      for (int r : routes_) routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(r);
      args.insert(args.end(), {"--cluster_name", "leanos-test", "--cluster", "nats://127.0.0.1:" + std::to_string(cluster_port_),
                               "--routes", routes});
    }
    child_ = std::make_unique<Child>(args);
    INFO(child_->output());
    REQUIRE(child_->wait_line("Server is ready"));
  }
  void kill9() { child_->kill9(); }
  // A clean shutdown: JetStream writes out what it holds in memory.
  void stop() { child_->stop(); }
  Child& child() { return *child_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_, name_;
  int port_, cluster_port_;
  std::vector<int> routes_;
  std::unique_ptr<Child> child_;
};

// `leanos --data DATA ARGS…`, which must succeed, as a function of ARGS.
auto leanos_on(const std::string& data) {
  return [data](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data});
    auto r = run_leanos(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  };
}

std::string leanos_log(const std::vector<std::string>& where) {
  auto args = where;
  args.insert(args.end(), {"log", "--json"});
  auto r = run_leanos(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// The state the folds give at several positions, with snapshots written every 29 events and
// read back: equal stores give equal bytes.
std::vector<std::string> folded_state(const std::string& data, const std::string& master_key) {
  store::StoreOptions o;
  o.master_key_file = master_key;
  auto opened = store::EventStore::open(data, o);
  REQUIRE(opened.is_ok());
  auto& es = **opened;
  LedgerOptions write;
  write.snapshot_every = 29;
  write.core_snapshot_every = 13;
  REQUIRE(read_ledger(es, AsOf{}, write).is_ok());
  LedgerOptions from_snapshots;
  from_snapshots.write_snapshots = false;
  std::vector<std::string> states;
  for (std::uint64_t at = 1; at <= es.last_position(); at += 17) {
    auto l = read_ledger(es, AsOf{.position = at}, from_snapshots);
    REQUIRE(l.is_ok());
    states.push_back(projections::serialize(l->view));
  }
  auto latest = read_ledger(es, AsOf{}, from_snapshots);
  REQUIRE(latest.is_ok());
  states.push_back(projections::serialize(latest->view));
  return states;
}

// Publishes one message that is no ledger's event into the workspace's stream.
void publish_foreign(const std::string& url, const std::string& subject) {
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK);
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  REQUIRE(js_Publish(&ack, js, subject.c_str(), "hello", 5, nullptr, &code) == NATS_OK);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

}  // namespace

TEST_CASE("relay a folder into JetStream and restore it: the same log, folds and snapshots, also from a backup") {
  test::TempDir t;
  NatsNode nats(t.sub("nats"), "n1");
  nats.start();
  const std::string data = t.sub("acme");
  test::seed_example(data);
  const std::string key = data + ".master-key";

  auto relay = run_leanos({"--data", data, "relay", "--nats", nats.url()});
  INFO(relay.err);
  REQUIRE(relay.exit_code == 0);
  CHECK(relay.out.find("of workspace acme: JetStream stream LEANOS_acme holds the log up to position") != std::string::npos);
  auto status = run_leanos({"--data", data, "--json", "relay", "status", "--nats", nats.url()});
  INFO(status.err);
  CHECK(status.out.find("\"lag\":0") != std::string::npos);

  // Relayed again: nothing twice. More events, a backup between them, relayed again.
  auto again = run_leanos({"--data", data, "relay", "--nats", nats.url()});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("relayed 0 event(s)") != std::string::npos);
  for (int i = 0; i < 3; ++i)
    REQUIRE(run_leanos({"--data", data, "append", "notes-" + std::to_string(i), "--type", "NoteTaken"}).exit_code == 0);
  REQUIRE(run_leanos({"--data", data, "backup", t.sub("backup")}).exit_code == 0);
  for (int i = 3; i < 5; ++i)
    REQUIRE(run_leanos({"--data", data, "append", "notes-" + std::to_string(i), "--type", "NoteTaken"}).exit_code == 0);
  auto more = run_leanos({"--data", data, "relay", "--nats", nats.url()});
  REQUIRE(more.exit_code == 0);
  CHECK(more.out.find("relayed 5 event(s)") != std::string::npos);

  const std::string restored = t.sub("restored");
  auto r = run_leanos({"--master-key-file", key, "restore", restored, "--from-nats", nats.url(), "--workspace", "acme"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("verify: clean") != std::string::npos);
  const std::string original_log = leanos_log({"--data", data});
  CHECK(test::count_lines(original_log) > 100);
  CHECK(leanos_log({"--master-key-file", key, "--data", restored}) == original_log);

  // From the backup (its keys are under the workspace's master key) and what came after it.
  const std::string from_backup = t.sub("from-backup");
  auto b = run_leanos({"--master-key-file", key, "restore", from_backup, "--from-nats", nats.url(), "--workspace", "acme",
                       "--backup", t.sub("backup")});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(b.out.find("restored 2 event(s)") != std::string::npos);
  CHECK(leanos_log({"--master-key-file", key, "--data", from_backup}) == original_log);

  const auto state = folded_state(data, key);
  CHECK(folded_state(restored, key) == state);
  CHECK(folded_state(from_backup, key) == state);
}

namespace {

// The data keys a closed store holds, as stored (wrapped under its master key): subject -> record.
std::map<std::string, std::string> stored_keys(const std::string& data, const std::string& key) {
  store::StoreOptions o;
  o.master_key_file = key;
  auto opened = store::EventStore::open(data, o);
  REQUIRE(opened.is_ok());
  auto page = (*opened)->wrapped_keys_page("", 1000);
  REQUIRE(page.is_ok());
  return std::map<std::string, std::string>(page->subjects.begin(), page->subjects.end());
}

}  // namespace

// Purges the messages on `subject` from JetStream stream `stream`, as an operator could.
void purge_subjects(const std::string& url, const std::string& stream, const std::string& subject) {
  natsConnection* nc = nullptr;
  REQUIRE(natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK);
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Subject = subject.c_str();
  jsErrCode code = static_cast<jsErrCode>(0);
  CHECK(js_PurgeStream(js, stream.c_str(), &o, &code) == NATS_OK);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

TEST_CASE("restore in process: the relayed log comes back event for event, sealed fields open under the same master key, and a backup of another log is refused") {
  test::TempDir t;
  NatsNode nats(t.sub("nats"), "n1");
  nats.start();
  store::StoreOptions o;
  o.master_key_file = t.sub("master-key");
  auto source = store::EventStore::open(t.sub("source"), o);
  REQUIRE(source.is_ok());
  v1::Envelope note;
  note.set_type("Note");
  REQUIRE((*source)->append("notes-1", store::ExpectedVersion::any(), {note, note}).is_ok());
  v1::Envelope lead;
  lead.mutable_lead_captured()->set_deal_id("acme");
  lead.mutable_lead_captured()->set_company("Acme");
  lead.mutable_lead_captured()->mutable_contact()->set_name("Jane Roe");
  lead.mutable_lead_captured()->mutable_contact()->set_email("jane@acme.example");
  REQUIRE((*source)->append("deal-acme", store::ExpectedVersion::any(), {lead}).is_ok());
  store::StoreSource from(**source, "relay-nats");
  store::RelayOptions ro;
  ro.nats.url = nats.url();
  ro.nats.workspace = "acme";
  ro.once = true;
  auto relayed = store::relay(from, ro);
  REQUIRE_MESSAGE(relayed.is_ok(), (relayed.is_ok() ? "" : relayed.status().to_string()));
  CHECK(relayed->held == 3);

  auto log = store::JetStreamLog::connect(ro.nats);
  REQUIRE(log.is_ok());
  auto target = store::EventStore::open(t.sub("restored"), o);
  REQUIRE(target.is_ok());
  auto restored = store::restore(**log, **target);
  REQUIRE_MESSAGE(restored.is_ok(), (restored.is_ok() ? "" : restored.status().to_string()));
  CHECK(restored->from == 0);
  CHECK(restored->restored == 3);
  auto a = (*source)->read_all(1, 100), b = (*target)->read_all(1, 100);
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  REQUIRE(a->size() == b->size());
  for (std::size_t i = 0; i < a->size(); ++i) CHECK((*a)[i].SerializeAsString() == (*b)[i].SerializeAsString());
  CHECK((*b)[2].lead_captured().contact().name() == "Jane Roe");  // opened under the same master key

  // A "backup" of another log: its first event is not the one JetStream holds there.
  auto other = store::EventStore::open(t.sub("other"), o);
  REQUIRE(other.is_ok());
  REQUIRE((*other)->append("notes-1", store::ExpectedVersion::any(), {note}).is_ok());
  auto refused = store::restore(**log, **other);
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().code() == Code::conflict);
  CHECK(refused.status().message().find("copies of different logs") != std::string::npos);
  CHECK((*other)->last_position() == 1);  // nothing was added
}

TEST_CASE("JetStream holds personal fields sealed and their keys wrapped, and forget erases the key there too") {
  test::TempDir t;
  const std::string nats_dir = t.sub("nats");
  NatsNode nats(nats_dir, "n1");
  nats.start();
  const std::string data = t.sub("acme"), key = data + ".master-key";
  const auto leanos = leanos_on(data);
  leanos({"deal", "open", "acme-corp", "--company", "Acme Corp", "--segment", "enterprise", "--source", "inbound", "--contact-name",
          "Jane Roe", "--contact-title", "Chief Buyer", "--contact-email", "jane.roe@acme.example", "--signal", "Jane Roe asked for a demo"});
  leanos({"deal", "open", "beta", "--company", "Beta", "--segment", "smb", "--source", "inbound", "--contact-name", "Bob Stone",
          "--contact-email", "bob@beta.example", "--signal", "Bob asked"});
  leanos({"relay", "--nats", nats.url()});
  const auto keys = stored_keys(data, key);
  REQUIRE(keys.size() == 2);
  nats.stop();  // what JetStream holds, written out
  for (const std::string& plain : {std::string("Jane Roe"), std::string("jane.roe@acme.example"), std::string("Chief Buyer"),
                                   std::string("Bob Stone"), std::string("bob@beta.example")})
    CHECK_MESSAGE(files_holding(nats_dir, plain).empty(), plain);
  CHECK_FALSE(files_holding(nats_dir, "Acme Corp").empty());  // the scan finds what is relayed in clear
  for (const auto& [subject, record] : keys) CHECK_FALSE(files_holding(nats_dir, record).empty());  // the keys, as stored
  nats.start();

  // Restored, the fields open under the workspace's master key, and only under it.
  auto refused = run_leanos({"restore", t.sub("keyless"), "--from-nats", nats.url(), "--workspace", "acme"});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("holds its personal fields sealed") != std::string::npos);
  CHECK(refused.err.find("--master-key-file") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(t.sub("keyless")));  // nothing half-made is left
  const std::string before = t.sub("restored-before");
  auto r = run_leanos({"--master-key-file", key, "restore", before, "--from-nats", nats.url(), "--workspace", "acme"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(run_leanos({"--master-key-file", key, "--data", before, "deal", "show", "acme-corp"}).out.find("Jane Roe") != std::string::npos);
  CHECK(leanos_log({"--master-key-file", key, "--data", before}) == leanos_log({"--data", data}));

  // Forgotten: the relay erases Jane's key from JetStream before it copies SubjectForgotten.
  leanos({"forget", "jane.roe@acme.example", "--reason", "erasure request"});
  const auto left = stored_keys(data, key);
  REQUIRE(left.size() == 1);
  std::string jane;
  for (const auto& [subject, record] : keys)
    if (!left.count(subject)) jane = record;
  leanos({"relay", "--nats", nats.url()});
  nats.stop();
  CHECK(files_holding(nats_dir, jane).empty());
  CHECK_FALSE(files_holding(nats_dir, left.begin()->second).empty());  // Bob's is kept
  nats.start();
  const std::string after = t.sub("restored-after");
  r = run_leanos({"--master-key-file", key, "restore", after, "--from-nats", nats.url(), "--workspace", "acme"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto shown = run_leanos({"--master-key-file", key, "--data", after, "deal", "show", "acme-corp"});
  CHECK(shown.out.find("Jane") == std::string::npos);
  CHECK(shown.out.find("[erased]") != std::string::npos);
  CHECK(shown.out.find("Acme Corp") != std::string::npos);
  CHECK(run_leanos({"--master-key-file", key, "--data", after, "deal", "show", "beta"}).out.find("Bob Stone") != std::string::npos);
  CHECK(leanos_log({"--master-key-file", key, "--data", after}) == leanos_log({"--data", data}));
  // The copy restored before the erasure forgets her too when it is opened (the list beside the key).
  shown = run_leanos({"--master-key-file", key, "--data", before, "deal", "show", "acme-corp"});
  CHECK(shown.out.find("Jane") == std::string::npos);
  CHECK(shown.out.find("[erased]") != std::string::npos);

  // The master key rotated: the relay publishes every key again, wrapped under the new one,
  // and erases the old wrapping, which opens under a key that is to be destroyed.
  const std::string rotated = t.sub("rotated.key");
  leanos({"rotate-key", rotated});
  const auto rewrapped = stored_keys(data, rotated);
  REQUIRE(rewrapped.size() == 1);
  leanos({"--master-key-file", rotated, "relay", "--nats", nats.url()});
  nats.stop();
  CHECK(files_holding(nats_dir, left.begin()->second.substr(16)).empty());
  CHECK_FALSE(files_holding(nats_dir, rewrapped.begin()->second.substr(16)).empty());
  nats.start();
  const std::string third = t.sub("restored-rotated");
  r = run_leanos({"--master-key-file", rotated, "restore", third, "--from-nats", nats.url(), "--workspace", "acme"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(run_leanos({"--master-key-file", rotated, "--data", third, "deal", "show", "beta"}).out.find("Bob Stone") != std::string::npos);

  // A key stream that lacks a key (here purged behind the relay's back; in a cluster, a replica
  // that answered before it caught up) is not restored as if that person were forgotten: the
  // restore fails, names the key stream, and leaves no folder. Jane's key is missing too, and
  // rightly: she is forgotten, and not counted.
  purge_subjects(nats.url(), "LEANOS_acme_KEYS", "leanos-keys.acme.s.>");
  auto lacking = run_leanos({"--master-key-file", rotated, "restore", t.sub("lacking"), "--from-nats", nats.url(), "--workspace", "acme"});
  CHECK(lacking.exit_code != 0);
  CHECK(lacking.err.find("LEANOS_acme_KEYS lacks the data keys of 1 subject(s)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(t.sub("lacking")));
}

TEST_CASE("keys the JetStream copy lost (a power cut of the NATS machine takes back what it acknowledged unsynced) are published again at the relay's next session") {
  test::TempDir t;
  NatsNode nats(t.sub("nats"), "n1");
  nats.start();
  const std::string data = t.sub("acme");
  const auto leanos = leanos_on(data);
  leanos({"deal", "open", "acme-corp", "--company", "Acme Corp", "--segment", "enterprise", "--source", "inbound", "--contact-name",
          "Jane Roe", "--contact-email", "jane.roe@acme.example", "--signal", "Jane asked for a demo"});
  leanos({"relay", "--nats", nats.url()});
  // The copy loses its data keys while its events survive (two streams, synced apart).
  purge_subjects(nats.url(), "LEANOS_acme_KEYS", "leanos-keys.acme.s.>");
  auto lacking = run_leanos({"--master-key-file", data + ".master-key", "restore", t.sub("lacking"), "--from-nats", nats.url(), "--workspace", "acme"});
  REQUIRE(lacking.exit_code != 0);
  CHECK(lacking.err.find("lacks the data keys of 1 subject(s)") != std::string::npos);
  // The next session reads what the key stream holds, not what it published before: the key
  // goes back (before, the relay trusted its earlier publication and the copy stayed unusable).
  leanos({"relay", "--nats", nats.url()});
  const std::string restored = t.sub("restored");
  auto r = run_leanos({"--master-key-file", data + ".master-key", "restore", restored, "--from-nats", nats.url(), "--workspace", "acme"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(run_leanos({"--master-key-file", data + ".master-key", "--data", restored, "deal", "show", "acme-corp"}).out.find("Jane Roe") !=
        std::string::npos);
}

TEST_CASE("a power cut of the NATS machine under a lying disk takes back what JetStream acknowledged, and the relay's next session re-sends it all") {
  if (!test::fuse_usable()) {
    MESSAGE("skipped: this machine does not let the test mount a FUSE file system (root, /dev/fuse and a container allowed to mount)");
    return;
  }
  test::TempDir t;
  const std::string data = t.sub("acme"), disk = t.sub("nats-disk"), mount = t.sub("nats-mount");
  std::filesystem::create_directories(disk);
  std::filesystem::create_directories(mount);
  std::string lines;
  for (int i = 0; i < 500; ++i) lines += "{\"type\":\"Note\",\"generic\":{\"blob\":\"eA==\"}}\n";
  const std::string events = test::write_file(t.sub("events.jsonl"), lines);
  REQUIRE(run_leanos({"--data", data, "append", "notes-1", "--file", events}).exit_code == 0);
  REQUIRE(run_leanos({"--data", data, "deal", "open", "acme-corp", "--company", "Acme Corp", "--segment", "enterprise", "--source", "inbound",
                      "--contact-name", "Jane Roe", "--contact-email", "jane.roe@acme.example", "--signal", "Jane asked"})
              .exit_code == 0);
  std::string said;
  {
    test::LazyFs lying(disk, mount, 7, false);
    NatsNode nats(mount, "n1");
    nats.start();
    auto relayed = run_leanos({"--data", data, "relay", "--nats", nats.url()});
    INFO(relayed.err);
    REQUIRE(relayed.exit_code == 0);
    CHECK(relayed.out.find("holds the log up to position 501") != std::string::npos);  // acknowledged, every one
    lying.cut();  // the power goes: JetStream 2.9 syncs its files every two minutes, not before it acknowledges
    nats.kill9();
    said = lying.unmount();
  }
  INFO(said);
  REQUIRE(said.find("lazyfs: power cut:") != std::string::npos);
  CHECK(said.find("power cut: 0 unsynced bytes dropped") == std::string::npos);
  NatsNode back(disk, "n1");  // the machine again, on what its disk kept
  back.start();
  // What the copy still holds is less than it acknowledged: a restore now would be short.
  const std::string short_copy = t.sub("short");
  auto early = run_leanos({"--master-key-file", data + ".master-key", "restore", short_copy, "--from-nats", back.url(), "--workspace", "acme"});
  const std::string key = data + ".master-key";
  const bool lost = early.exit_code != 0 ||  // the stream itself is gone (its files were never synced)
                    leanos_log({"--master-key-file", key, "--data", short_copy}) != leanos_log({"--master-key-file", key, "--data", data});
  CHECK_MESSAGE(lost, "the copy kept everything it acknowledged: the cut took nothing back");
  // The relay's next session starts from what JetStream holds now: events and keys go again.
  auto again = run_leanos({"--data", data, "relay", "--nats", back.url()});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  const std::string restored = t.sub("restored");
  auto r = run_leanos({"--master-key-file", data + ".master-key", "restore", restored, "--from-nats", back.url(), "--workspace", "acme"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(leanos_log({"--master-key-file", key, "--data", restored}) == leanos_log({"--master-key-file", key, "--data", data}));
  CHECK(run_leanos({"--master-key-file", key, "--data", restored, "deal", "show", "acme-corp"}).out.find("Jane Roe") != std::string::npos);
}

TEST_CASE("relay and restore refuse what they cannot copy faithfully, naming it") {
  test::TempDir t;
  const std::string data = t.sub("acme");
  REQUIRE(run_leanos({"--data", data, "append", "notes-1", "--type", "NoteTaken"}).exit_code == 0);
  REQUIRE(run_leanos({"--data", data, "append", "notes-2", "--type", "NoteTaken"}).exit_code == 0);

  SUBCASE("no NATS server: a clear error; a following relay retries with a growing back-off and records no checkpoint") {
    const std::string nowhere = "nats://127.0.0.1:" + std::to_string(free_port());
    auto once = run_leanos({"--data", data, "relay", "--nats", nowhere});
    CHECK(once.exit_code == 11);
    CHECK(once.err.find("cannot reach NATS at " + nowhere) != std::string::npos);

    test::Server server(data);
    Child relay({LEANOS_BINARY_PATH, "--server", server.address(), "relay", "--nats", nowhere, "--workspace", "acme"});
    CHECK(relay.wait_line("retrying in 100 ms"));
    CHECK(relay.wait_line("retrying in 200 ms"));
    relay.kill9();
    auto first = run_leanos({"--server", server.address(), "subscribe", "--name", "relay-nats", "--limit", "1"});
    INFO(first.err);
    CHECK(first.out.find("\"position\":\"1\"") != std::string::npos);
  }

  SUBCASE("workspace names that are not one NATS token or folder name") {
    for (const std::string& bad : std::vector<std::string>{"../etc", "a/b", "a.b", "Acme", std::string(65, 'a'), "a*", "a>"}) {
      auto r = run_leanos({"--data", data, "relay", "--nats", "nats://127.0.0.1:1", "--workspace", bad});
      INFO(bad << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("workspace name") != std::string::npos);
    }
    CHECK_FALSE(store::check_workspace_name(std::string("a\0b", 3)).is_ok());
    CHECK(store::check_workspace_name("acme-2_b").is_ok());
  }

  SUBCASE("a foreign message in the stream, another log under the same name, a folder that is not empty") {
    NatsNode nats(t.sub("nats"), "n1");
    nats.start();
    REQUIRE(run_leanos({"--data", data, "relay", "--nats", nats.url()}).exit_code == 0);

    // Another log relayed under the same name: shorter than the stream, then as long but other.
    const std::string other = t.sub("other");
    REQUIRE(run_leanos({"--data", other, "append", "notes-1", "--type", "NoteTaken"}).exit_code == 0);
    auto shorter = run_leanos({"--data", other, "relay", "--nats", nats.url(), "--workspace", "acme"});
    CHECK(shorter.exit_code == 4);
    CHECK(shorter.err.find("holds 2 events, more than this log: it copies another log") != std::string::npos);
    REQUIRE(run_leanos({"--data", other, "append", "notes-2", "--type", "NoteTaken"}).exit_code == 0);
    auto same_length = run_leanos({"--data", other, "relay", "--nats", nats.url(), "--workspace", "acme"});
    CHECK(same_length.exit_code == 4);
    CHECK(same_length.err.find("at position 2 where this log has") != std::string::npos);

    auto missing = run_leanos({"restore", t.sub("nothing"), "--from-nats", nats.url(), "--workspace", "nobody"});
    CHECK(missing.exit_code == 3);
    CHECK(missing.err.find("JetStream has no stream LEANOS_nobody") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(t.sub("nothing")));

    auto full = run_leanos({"restore", data, "--from-nats", nats.url(), "--workspace", "acme"});
    CHECK(full.exit_code == 2);
    CHECK(full.err.find("is not empty") != std::string::npos);

    publish_foreign(nats.url(), "leanos.acme.notes.1");
    auto relay = run_leanos({"--data", data, "relay", "--nats", nats.url()});
    CHECK(relay.exit_code == 7);
    CHECK(relay.err.find("foreign message at sequence 3 (subject leanos.acme.notes.1)") != std::string::npos);
    auto restore = run_leanos({"restore", t.sub("restored"), "--from-nats", nats.url(), "--workspace", "acme"});
    CHECK(restore.exit_code == 7);
    CHECK(restore.err.find("sequence 3") != std::string::npos);
  }
}

TEST_CASE("a three-node JetStream cluster, the relay SIGKILLed three times and a node SIGKILLed while appends flow: "
          "the stream ends with exactly the log, and a restore from it equals the original") {
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  test::TempDir t;
  std::vector<int> cluster_ports = {free_port(), free_port(), free_port()};
  std::vector<std::unique_ptr<NatsNode>> nodes;
  for (int i = 0; i < 3; ++i)
    nodes.push_back(std::make_unique<NatsNode>(t.sub("nats-" + std::to_string(i)), "n" + std::to_string(i), cluster_ports,
                                               cluster_ports[static_cast<std::size_t>(i)]));
  for (auto& n : nodes) n->start();
  REQUIRE(nodes[0]->child().wait_line("metadata leader"));
  const std::string urls = nodes[0]->url() + "," + nodes[1]->url() + "," + nodes[2]->url();

  const std::string data = t.sub("acme");
  test::seed_example(data);
  test::Server server(data);
  const std::vector<std::string> relay_args = {LEANOS_BINARY_PATH, "--server", server.address(), "relay", "--nats", urls,
                                               "--workspace", "acme", "--replicas", "3"};
  auto relay = std::make_unique<Child>(relay_args);

  // Appends in batches of 1 to 5 events; the relay killed at three random points, a NATS node
  // killed at a fourth and restarted at a fifth.
  constexpr int kAppends = 600;
  std::uniform_int_distribution<int> point(20, kAppends - 20);
  std::vector<int> relay_kills = {point(rng), point(rng), point(rng)};
  const int node_kill = point(rng);
  const int node_back = std::min(kAppends - 1, node_kill + 50);
  const auto victim = static_cast<std::size_t>(rng() % 3);
  std::uniform_int_distribution<int> size(1, 5);
  int kills = 0;
  for (int i = 0; i < kAppends; ++i) {
    std::vector<v1::Envelope> batch;
    for (int k = size(rng); k > 0; --k) batch.push_back(test::note());
    v1::AppendResponse out;
    REQUIRE(test::append(server.stub(), "notes-" + std::to_string(i % 40), batch, &out).ok());
    if (std::count(relay_kills.begin(), relay_kills.end(), i)) {
      relay->kill9();
      ++kills;
      relay = std::make_unique<Child>(relay_args);
    }
    if (i == node_kill) nodes[victim]->kill9();
    if (i == node_back) nodes[victim]->start();
  }
  CHECK(kills == 3);
  MESSAGE("the last relay before --once said: " << relay->output());
  relay->kill9();
  // A last relay that stops once JetStream holds the whole log.
  auto last = run_leanos({"--server", server.address(), "relay", "--nats", urls, "--workspace", "acme", "--once"});
  INFO(last.err);
  REQUIRE(last.exit_code == 0);
  auto status = run_leanos({"--server", server.address(), "--json", "relay", "status", "--nats", urls, "--workspace", "acme"});
  INFO("relay --once: " << last.out << "relay status: " << status.out);
  CHECK(status.out.find("\"lag\":0") != std::string::npos);

  // A consumer in another process: restore reads the stream, checks positions dense and ids
  // unique, and must end with the log, byte for byte.
  const std::string restored = t.sub("restored");
  const std::string key = data + ".master-key";
  auto r = run_leanos({"--master-key-file", key, "restore", restored, "--from-nats", urls, "--workspace", "acme"});
  INFO(r.err << r.out);
  REQUIRE(r.exit_code == 0);
  const std::string original_log = leanos_log({"--server", server.address()});
  CHECK(leanos_log({"--master-key-file", key, "--data", restored}) == original_log);
  server.stop(SIGTERM);
  CHECK(folded_state(restored, key) == folded_state(data, key));
  // The subscription the relay read was sealed: no JetStream node holds a contact in clear.
  for (auto& n : nodes) n->stop();
  for (int i = 0; i < 3; ++i)
    for (const std::string& plain : {std::string("ops@"), std::string("Head of Ops"), std::string("VP Operations")})
      CHECK_MESSAGE(files_holding(t.sub("nats-" + std::to_string(i)), plain).empty(), plain);
}

TEST_CASE("bench relay starts its own nats-server and relays every event it appended, sealed, with a key per person") {
  test::TempDir t;
  // Every event a new person: the relay publishes a key for each before it.
  auto r = run_leanos({"bench", "relay", "--events", "1000", "--nodes", "1", "--live-events", "200", "--people", "new", "--json", "--dir",
                       t.sub("bench")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"nodes\":1,\"replicas\":1,\"events\":1000,") != std::string::npos);
  CHECK(r.out.find("\"people\":\"new\"") != std::string::npos);
  // The live phase: every one of the 200 events reached the JetStream consumer (else no row).
  CHECK(r.out.find("\"live_rate\":1000,\"live_p50_ms\":") != std::string::npos);
  auto bad = run_leanos({"bench", "relay", "--nodes", "2"});
  CHECK(bad.exit_code == 2);
}

namespace {

// Polls `relay status` until JetStream holds the whole log (lag 0) or a minute passes.
bool caught_up(const std::vector<std::string>& where, const std::string& url) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto args = where;
    args.insert(args.end(), {"--json", "relay", "status", "--nats", url});
    auto r = run_leanos(args);
    if (r.exit_code == 0 && r.out.find("\"lag\":0") != std::string::npos && r.out.find("\"log_position\":0,") == std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("serve --relay-nats relays while it serves: the data folder, and every workspace into a stream of its own") {
  test::TempDir t;
  NatsNode nats(t.sub("nats"), "n1");
  nats.start();

  SUBCASE("the data folder, named after it") {
    const std::string data = t.sub("acme");
    REQUIRE(run_leanos({"--data", data, "append", "notes-0", "--type", "NoteTaken"}).exit_code == 0);
    test::Server server(data, {"--relay-nats", nats.url()});
    for (int i = 1; i <= 20; ++i) {
      v1::AppendResponse out;
      REQUIRE(test::append(server.stub(), "notes-" + std::to_string(i), {test::note()}, &out).ok());
    }
    REQUIRE(caught_up({"--server", server.address(), "--workspace", "acme"}, nats.url()));
    auto r = run_leanos({"restore", t.sub("restored"), "--from-nats", nats.url(), "--workspace", "acme"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(leanos_log({"--data", t.sub("restored")}) == leanos_log({"--server", server.address()}));
  }

  SUBCASE("many workspaces: each its own stream, none another's events") {
    const std::string dir = t.sub("workspaces");
    for (const std::string& name : std::vector<std::string>{"alpha", "beta"})
      REQUIRE(run_leanos({"workspace", "create", name, "--workspaces", dir}).exit_code == 0);
    test::Server server(t.sub("unused"), {"--workspaces", dir, "--relay-nats", nats.url()});
    for (const auto& [name, count] : std::vector<std::pair<std::string, int>>{{"alpha", 12}, {"beta", 30}}) {
      std::ifstream in(dir + "/" + name + ".token");
      std::string token;
      std::getline(in, token);
      for (int i = 0; i < count; ++i) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("leanos-workspace", name);
        ctx.AddMetadata("authorization", "Bearer " + token);
        v1::AppendRequest req;
        req.set_stream("notes-" + name);
        *req.add_events() = test::note();
        v1::AppendResponse out;
        REQUIRE(server.stub().Append(&ctx, req, &out).ok());
      }
      const std::vector<std::string> where = {"--server", server.address(), "--workspace", name, "--token-file",
                                              dir + "/" + name + ".token"};
      REQUIRE(caught_up(where, nats.url()));
      auto r = run_leanos({"restore", t.sub("restored-" + name), "--from-nats", nats.url(), "--workspace", name});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(r.out.find("restored " + std::to_string(count) + " event(s)") != std::string::npos);
      CHECK(leanos_log({"--data", t.sub("restored-" + name)}) == leanos_log(where));
    }
  }
}
