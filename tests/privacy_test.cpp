// Personal data in an immutable log: sealed fields, forgetting a data subject, backups that
// remember the erasure, a locked store without its master key, tampered ciphertext.
#include <doctest/doctest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <map>
#include <latch>
#include <thread>

#include "actors/ledger_reader.h"
#include "events/ids.h"
#include "projections/ledger.h"
#include "tests/history.h"
#include "leanos/v1/options.pb.h"
#include "store/event_store.h"
#include "store/keys.h"
#include "store/personal.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::store;
using leanos::test::TempDir;
using leanos::test::files_holding;
namespace fs = std::filesystem;
namespace pb = google::protobuf;

namespace {

std::unique_ptr<EventStore> open_at(const std::string& dir, const std::string& key_file) {
  StoreOptions o;
  o.master_key_file = key_file;
  auto s = EventStore::open(dir, o);
  REQUIRE_MESSAGE(s.is_ok(), (s.is_ok() ? "" : s.status().to_string()));
  return std::move(*s);
}

Envelope lead(const std::string& deal, const std::string& name, const std::string& email, const std::string& title) {
  Envelope e;
  auto* l = e.mutable_lead_captured();
  l->set_deal_id(deal);
  l->set_company("Acme Corp");
  l->set_segment("mid-market");
  l->set_signal(name + " asked for a demo");
  l->mutable_contact()->set_name(name);
  l->mutable_contact()->set_email(email);
  l->mutable_contact()->set_title(title);
  l->mutable_contact()->set_company("Acme Corp");
  return e;
}

Envelope notes(const std::string& deal, const std::string& text) {
  Envelope e;
  auto* a = e.mutable_action_completed();
  a->set_deal_id(deal);
  a->set_action("sales:demo");
  a->set_result("SUCCESS");
  a->set_notes(text);
  return e;
}

void append(EventStore& es, const std::string& stream, Envelope e) {
  auto r = es.append(stream, ExpectedVersion::any(), {std::move(e)});
  REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
}

std::vector<Envelope> stream(EventStore& es, const std::string& name) {
  auto r = es.read_stream(name, 1, Direction::forward, 100);
  REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
  return *r;
}

std::string utf16le(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

// The store's RocksDB opened directly (closed store), every column family by name.
struct RawDb {
  std::vector<std::string> names;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  RawDb(const std::string& dir, bool read_only) {
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    REQUIRE((read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, cfs, &handles, &db)
                       : rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &db))
                .ok());
  }
  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) {
    return handles[static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin())];
  }
};

// The wrapped data keys in a closed store's keys column family.
std::vector<std::string> wrapped_keys(const std::string& dir) {
  RawDb raw(dir, true);
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), raw.cf(kKeysCf)));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key().starts_with("subject/")) out.push_back(it->value().ToString().substr(16));  // past id and creation time
  return out;
}

// Sets every personal text field of `m` that holds text to `to`.
void blank(pb::Message& m, const std::string& to) {
  const auto* r = m.GetReflection();
  for (int i = 0; i < m.GetDescriptor()->field_count(); ++i) {
    const auto* f = m.GetDescriptor()->field(i);
    if (f->is_repeated()) {
      if (f->type() == pb::FieldDescriptor::TYPE_STRING && f->options().GetExtension(v1::personal))
        for (int j = 0; j < r->FieldSize(m, f); ++j)
          if (!r->GetRepeatedString(m, f, j).empty()) r->SetRepeatedString(&m, f, j, to);
      continue;
    }
    if (!r->HasField(m, f)) continue;
    if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE) blank(*r->MutableMessage(&m, f), to);
    else if (f->options().GetExtension(v1::personal) && !r->GetString(m, f).empty()) r->SetString(&m, f, to);
  }
}

}  // namespace

TEST_CASE("every stored field named like personal data is marked personal, or exempt for a reason") {
  // A new field for a person's data cannot slip in unsealed: name it like what it holds and
  // this fails until it is marked [(leanos.v1.personal) = true] or exempted here.
  const std::map<std::string, std::string> exempt = {
      {"leanos.v1.GoalDefined.title", "a goal's title (\"Reach $50K MRR by Q2\")"},
      {"leanos.v1.SubgoalDefined.title", "a subgoal's title"},
      {"leanos.v1.MaterialPublished.title", "a sales material's title"},
      {"leanos.v1.Contact.company", "the contact's company: a business, not a person"},
      {"leanos.v1.SubjectForgotten.subject_hash", "a keyed hash that names no one without the workspace's key"},
      // Free text outside a deal's thread is about the business, and has no data subject to
      // be sealed under: the README says to name no one in it.
      {"leanos.v1.SubjectForgotten.reason", "why a person was forgotten: the command refuses nothing, the README says name no one"},
      {"leanos.v1.AssumptionRevised.evidence", "a canvas review's reason, in the canvas stream (no data subject)"},
      {"leanos.v1.AssumptionConfidenceChanged.evidence", "no longer filled: the evidence stays in the learning, sealed"},
      {"leanos.v1.CampaignDecisionMade.reason", "a campaign's decision, about a segment (its prospects' data is sealed)"},
      {"leanos.v1.CampaignDecisionMade.alternatives", "a campaign's alternatives, about a segment"},
      {"leanos.v1.ScenarioSaved.name", "a what-if scenario's name: a slug the rules check (no-gamma), not a person's"},
  };
  // Names of people, and free text that may name them (reasons, evidence, alternatives).
  const std::regex personal_name("(^|_)(name|first_name|last_name|title|email|e_mail|phone|mobile|linkedin|twitter|"
                                 "address|notes?|signal|contact|person|quote|comment|subject|reason|evidence|alternatives)($|_)");
  std::set<const pb::Descriptor*> seen;
  std::vector<const pb::Descriptor*> todo = {Envelope::descriptor()};
  std::vector<std::string> unmarked, marked_wrongly;
  while (!todo.empty()) {
    const auto* d = todo.back();
    todo.pop_back();
    if (!seen.insert(d).second || d->file()->package() != "leanos.v1") continue;
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE) todo.push_back(f->message_type());
      const bool personal = f->options().GetExtension(v1::personal);
      if (personal && ((f->type() != pb::FieldDescriptor::TYPE_STRING && f->type() != pb::FieldDescriptor::TYPE_BYTES) ||
                       (f->is_repeated() && f->options().GetExtension(v1::data_subject))))
        marked_wrongly.push_back(f->full_name());
      if (f->type() == pb::FieldDescriptor::TYPE_STRING && std::regex_search(f->name(), personal_name) && !personal &&
          !exempt.count(f->full_name()))
        unmarked.push_back(f->full_name());
    }
  }
  CHECK(seen.size() > 40);
  auto joined = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += s + " ";
    return out;
  };
  CHECK_MESSAGE(unmarked.empty(), "mark these [(leanos.v1.personal) = true] or exempt them with a reason: " << joined(unmarked));
  CHECK_MESSAGE(marked_wrongly.empty(), "personal may mark string or bytes fields only, data_subject a single one: " << joined(marked_wrongly));
  // What the store seals, as the schema says.
  CHECK(personal_field_names(v1::Contact::descriptor()) ==
        std::vector<std::string>{"leanos.v1.Contact.name", "leanos.v1.Contact.title", "leanos.v1.Contact.email",
                                 "leanos.v1.Contact.subject_id"});
}

TEST_CASE("personal fields are stored sealed and read back in place") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key");
  {
    auto es = open_at(dir, key);
    append(*es, "deal-acme", lead("acme", "Jane Roe", "Jane.Roe@acme.test", "VP Sales"));
    append(*es, "deal-acme", notes("acme", "Jane liked the demo"));
    const auto events = stream(*es, "deal-acme");
    REQUIRE(events.size() == 2);
    CHECK(events[0].lead_captured().contact().name() == "Jane Roe");
    CHECK(events[0].lead_captured().contact().email() == "Jane.Roe@acme.test");
    CHECK(events[0].lead_captured().contact().title() == "VP Sales");
    CHECK(events[0].lead_captured().signal() == "Jane Roe asked for a demo");
    CHECK(events[0].lead_captured().company() == "Acme Corp");
    CHECK_FALSE(events[0].has_sealed());
    CHECK(events[1].action_completed().notes() == "Jane liked the demo");
    // A retry of the same event is still recognised as the same event.
    Envelope retry = lead("acme", "Jane Roe", "Jane.Roe@acme.test", "VP Sales");
    retry.set_event_id(events[0].event_id());
    auto again = es->append("deal-acme", ExpectedVersion::any(), {retry});
    REQUIRE(again.is_ok());
    CHECK(again->idempotent_retry);
  }
  // The master key was made on first use, beside nothing but where it was asked to be.
  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The WAL holds the records uncompressed: no plaintext in them, nor anywhere else.
  for (const std::string& plain : {std::string("Jane Roe"), std::string("Jane.Roe@acme.test"), std::string("VP Sales"),
                                   std::string("liked the demo"), utf16le("Jane Roe")})
    CHECK_MESSAGE(files_holding(dir, plain).empty(), plain);
  CHECK_FALSE(files_holding(dir, "Acme Corp").empty());  // the scan finds what is stored in clear
}

namespace {

// Sets every personal text of `m` (and of the singular messages it holds, a few levels down)
// to a marker naming its path from the envelope ("secret-50.6.1"; an e-mail for a field naming
// the subject; "secret-53.4#1" for the second of a list, between two texts left empty), and
// records each in `filled`.
void fill_personal(pb::Message& m, const std::string& path, int depth, std::map<std::string, std::string>& filled) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->real_containing_oneof() != nullptr) continue;  // a oneof's members overwrite each other
    const std::string at = path + "." + std::to_string(f->number());
    if (f->is_repeated()) {
      if (f->type() != pb::FieldDescriptor::TYPE_STRING || !f->options().GetExtension(v1::personal)) continue;
      for (int j = 0; j < 4; ++j) {
        const std::string text = j % 2 ? "secret-" + at + "#" + std::to_string(j) : "";
        r->AddString(&m, f, text);
        filled[at + "#" + std::to_string(j)] = text;
      }
      continue;
    }
    if ((f->type() == pb::FieldDescriptor::TYPE_STRING || f->type() == pb::FieldDescriptor::TYPE_BYTES) && f->options().GetExtension(v1::personal)) {
      const std::string text = "secret-" + at + (f->options().GetExtension(v1::data_subject) ? "@subject.test" : "");
      r->SetString(&m, f, text);
      filled[at] = text;
    } else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && depth < 4 && f->message_type()->file()->package() == "leanos.v1") {
      fill_personal(*r->MutableMessage(&m, f), at, depth + 1, filled);
    }
  }
}

// The text at `path` (field numbers from the envelope down) of `e`.
std::string text_at(const pb::Message& e, const std::string& path) {
  const pb::Message* m = &e;
  std::stringstream parts(path);
  std::string part;
  const pb::FieldDescriptor* f = nullptr;
  int element = -1;
  while (std::getline(parts, part, '.')) {
    if (f != nullptr) m = &m->GetReflection()->GetMessage(*m, f);
    if (const auto hash = part.find('#'); hash != std::string::npos) element = std::stoi(part.substr(hash + 1));
    f = m->GetDescriptor()->FindFieldByNumber(std::stoi(part));
    REQUIRE(f != nullptr);
  }
  if (element >= 0) {
    REQUIRE(element < m->GetReflection()->FieldSize(*m, f));
    return m->GetReflection()->GetRepeatedString(*m, f, element);
  }
  return m->GetReflection()->GetString(*m, f);
}

}  // namespace

TEST_CASE("every personal field of every event type is stored sealed and reads back in place") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key");
  std::vector<std::map<std::string, std::string>> filled;
  std::set<std::string> types;
  {
    auto es = open_at(dir, key);
    const auto* payload = Envelope::descriptor()->FindOneofByName("payload");
    REQUIRE(payload != nullptr);
    for (int i = 0; i < payload->field_count(); ++i) {
      const auto* f = payload->field(i);
      Envelope e;
      std::map<std::string, std::string> texts;
      fill_personal(*e.GetReflection()->MutableMessage(&e, f), std::to_string(f->number()), 0, texts);
      if (texts.empty()) continue;  // an event type with nothing personal
      types.insert(f->name());
      append(*es, "types-" + std::to_string(filled.size()), e);
      filled.push_back(std::move(texts));
    }
    REQUIRE(types.size() >= 8);  // contacts, notes, signals, files… in events of many types
    auto stored = es->read_all(1, 1000, SIZE_MAX, Personal::leave_sealed);
    REQUIRE(stored.is_ok());
    REQUIRE(stored->size() == filled.size());
    for (const auto& e : *stored) {
      INFO(e.ShortDebugString());
      CHECK(e.has_sealed());
      CHECK(e.SerializeAsString().find("secret-") == std::string::npos);
    }
    auto opened = es->read_all(1, 1000, SIZE_MAX, Personal::open);
    REQUIRE(opened.is_ok());
    for (std::size_t n = 0; n < filled.size(); ++n)
      for (const auto& field : filled[n]) {  // (no structured binding: INFO captures it, which clang 14 refuses)
        INFO(field.first);
        CHECK(text_at((*opened)[n], field.first) == field.second);
      }
  }
  CHECK(files_holding(dir, "secret-").empty());  // nor in the WAL, nor anywhere else in the folder
}

TEST_CASE("an event's own subject comes before the people its payload names: its key seals them") {
  TempDir tmp;
  auto es = open_at(tmp.sub("data"), tmp.sub("master.key"));
  Envelope e = lead("acme", "Jane Roe", "jane.roe@acme.test", "VP Sales");
  e.set_subject("crm-4711");
  append(*es, "deal-acme", e);
  auto other = es->forget("jane.roe@acme.test", "asked", "test");
  CHECK(other.status().code() == Code::not_found);  // her e-mail named no key of its own
  REQUIRE(es->forget("CRM-4711 ", "asked", "test").is_ok());
  const auto events = stream(*es, "deal-acme");
  REQUIRE(events.size() >= 1);
  CHECK(events[0].lead_captured().contact().name() == kErased);
  CHECK(events[0].lead_captured().contact().email() == kErased);
  CHECK(events[0].lead_captured().company() == "Acme Corp");
}

TEST_CASE("a caller cannot hand the store sealed fields") {
  TempDir tmp;
  auto es = open_at(tmp.sub("data"), tmp.sub("k"));
  Envelope e = notes("acme", "x");
  e.mutable_sealed()->set_subject("0123456789abcdef");
  auto r = es->append("deal-acme", ExpectedVersion::any(), {e});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("seals personal fields itself") != std::string::npos);
  CHECK(es->last_position() == 0);
}

TEST_CASE("forgetting a subject erases their fields everywhere and keeps every business fact") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key");
  std::vector<std::string> keys_before;
  {
    auto es = open_at(dir, key);
    append(*es, "deal-acme", lead("acme", "Jane Roe", "jane.roe@acme.test", "VP Sales"));
    append(*es, "deal-acme", notes("acme", "Jane liked the demo"));
    append(*es, "deal-beta", lead("beta", "Bob Stone", "bob@beta.test", "CTO"));
    REQUIRE(es->put_snapshot("ledger", 3, "state naming Jane Roe").is_ok());
    REQUIRE(es->compact().is_ok());  // the keys in an SST file as well as the WAL
  }
  keys_before = wrapped_keys(dir);
  REQUIRE(keys_before.size() == 2);
  std::vector<std::string> found_before;
  for (const auto& k : keys_before)
    if (!files_holding(dir, k).empty()) found_before.push_back(k);
  REQUIRE(found_before.size() == 2);  // the scan sees a key where one is

  auto es = open_at(dir, key);
  const auto last = es->last_position();
  auto unknown = es->forget("nobody@nowhere.test", "erasure request", "ops");
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.status().code() == Code::not_found);
  CHECK(unknown.status().message().find("nobody@nowhere.test") != std::string::npos);
  CHECK(es->last_position() == last);
  auto no_reason = es->forget("jane.roe@acme.test", "", "ops");
  REQUIRE_FALSE(no_reason.is_ok());
  CHECK(no_reason.status().message().find("--reason") != std::string::npos);

  auto forgotten = es->forget("  Jane.Roe@ACME.test ", "erasure request of 2026-11-26", "ops");
  REQUIRE_MESSAGE(forgotten.is_ok(), (forgotten.is_ok() ? "" : forgotten.status().to_string()));
  CHECK(forgotten->position == last + 1);
  CHECK(forgotten->subject_hash.size() == 32);

  const auto deal = stream(*es, "deal-acme");
  REQUIRE(deal.size() == 2);
  const auto& l = deal[0].lead_captured();
  CHECK(l.contact().name() == kErased);
  CHECK(l.contact().email() == kErased);
  CHECK(l.contact().title() == kErased);
  CHECK(l.signal() == kErased);
  CHECK(deal[1].action_completed().notes() == kErased);  // the deal's own text, sealed under its contact
  CHECK(l.deal_id() == "acme");
  CHECK(l.company() == "Acme Corp");
  CHECK(l.segment() == "mid-market");
  CHECK(deal[1].action_completed().result() == "SUCCESS");
  CHECK(stream(*es, "deal-beta")[0].lead_captured().contact().name() == "Bob Stone");

  const auto privacy = stream(*es, kPrivacyStream);
  REQUIRE(privacy.size() == 1);
  CHECK(privacy[0].subject_forgotten().subject_hash() == forgotten->subject_hash);
  CHECK(privacy[0].subject_forgotten().reason() == "erasure request of 2026-11-26");
  CHECK(privacy[0].actor() == "ops");
  auto all = es->read_all(1, 100);  // what a subscriber reads
  REQUIRE(all.is_ok());
  CHECK(all->back().type() == "SubjectForgotten");

  auto snap = es->snapshot_at_or_before("ledger", 100);
  REQUIRE(snap.is_ok());
  CHECK_FALSE(snap->has_value());  // snapshots held opened fields: gone
  CHECK(es->verify().clean());

  auto twice = es->forget("jane.roe@acme.test", "again", "ops");
  REQUIRE_FALSE(twice.is_ok());
  CHECK(twice.status().code() == Code::not_found);
  const std::string backup = tmp.sub("backup-after");
  REQUIRE(es->backup(backup).is_ok());
  es.reset();
  for (const auto& k : keys_before)
    if (k != wrapped_keys(dir).at(0)) CHECK_MESSAGE(files_holding(backup, k).empty(), "a backup taken after the erasure holds the key");

  // No file under the folder holds Jane's data key any more (or the snapshot); Bob's is there.
  const auto keys_after = wrapped_keys(dir);
  REQUIRE(keys_after.size() == 1);
  for (const auto& k : keys_before) {
    const bool bobs = k == keys_after[0];
    CHECK_MESSAGE(files_holding(dir, k).empty() != bobs, (bobs ? "Bob's key is missing" : "Jane's key is still in a file"));
  }
  CHECK(files_holding(dir, "naming Jane").empty());
  CHECK(files_holding(dir, "Jane Roe").empty());
}

TEST_CASE("a sealed copy is stored as it came, opens under the workspace's keys only, and refuses what does not authenticate") {
  TempDir tmp;
  const std::string key = tmp.sub("master.key");
  auto a = open_at(tmp.sub("a"), key);
  append(*a, "deal-acme", lead("acme", "Jane Roe", "jane@acme.test", "VP Sales"));
  append(*a, "deal-acme", notes("acme", "Jane liked the demo"));
  auto sealed = a->read_all(1, 100, SIZE_MAX, Personal::leave_sealed);
  REQUIRE(sealed.is_ok());
  REQUIRE(sealed->size() == 2);
  CHECK((*sealed)[0].has_sealed());
  CHECK((*sealed)[0].lead_captured().contact().name().empty());
  auto keys = a->wrapped_keys_page("", 100);
  REQUIRE(keys.is_ok());
  REQUIRE(keys->subjects.size() == 1);
  CHECK_FALSE(keys->salt.empty());

  // Under another master key the copy's keys do not open: refused, naming the key file.
  const std::string other = tmp.sub("other.key");
  REQUIRE(write_secret_file(other, std::string(64, 'a') + "\n", "master key file").is_ok());
  auto b = open_at(tmp.sub("b"), other);
  auto wrong = b->install_keys(*keys);
  REQUIRE_FALSE(wrong.is_ok());
  CHECK(wrong.message().find(other) != std::string::npos);
  CHECK(b->wrapped_keys_page("", 100)->salt.empty());  // nothing installed

  // The workspace's key (a copy of the file, with a forgotten list of its own).
  const std::string copied = tmp.sub("copied.key");
  fs::copy_file(key, copied);
  fs::permissions(copied, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  auto c = open_at(tmp.sub("c"), copied);
  REQUIRE(c->install_keys(*keys).is_ok());
  Envelope tampered = (*sealed)[0];
  std::string box = tampered.sealed().box();
  box[30] = static_cast<char>(box[30] ^ 1);
  tampered.mutable_sealed()->set_box(box);
  auto refused = c->replicate({tampered});
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().message().find("does not authenticate") != std::string::npos);
  Envelope both = (*sealed)[0];
  both.mutable_lead_captured()->mutable_contact()->set_name("Jane Roe");
  refused = c->replicate({both});
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().message().find("in clear too") != std::string::npos);
  CHECK(c->last_position() == 0);

  REQUIRE(c->replicate(*sealed).is_ok());
  auto stored = c->read_all(1, 100, SIZE_MAX, Personal::leave_sealed);
  REQUIRE(stored.is_ok());
  CHECK((*stored)[0].SerializeAsString() == (*sealed)[0].SerializeAsString());  // as it came
  auto opened = c->read_all(1, 100);
  REQUIRE(opened.is_ok());
  CHECK((*opened)[0].lead_captured().contact().name() == "Jane Roe");
  CHECK((*opened)[1].action_completed().notes() == "Jane liked the demo");

  // Forgotten where it was recorded: the copied SubjectForgotten forgets her here too.
  REQUIRE(a->forget("jane@acme.test", "erasure request", "dpo").is_ok());
  auto tail = a->read_all(3, 10, SIZE_MAX, Personal::leave_sealed);
  REQUIRE(tail.is_ok());
  REQUIRE(c->replicate(*tail).is_ok());
  opened = c->read_all(1, 100);
  REQUIRE(opened.is_ok());
  CHECK((*opened)[0].lead_captured().contact().name() == "[erased]");
  CHECK((*opened)[1].action_completed().notes() == "[erased]");
  CHECK(c->wrapped_keys_page("", 100)->subjects.empty());
  CHECK(c->verify().clean());
}

TEST_CASE("a store sealed one box per field (the first format) still reads, forgets, and takes new events compact") {
  TempDir tmp;
  REQUIRE(test::run("/bin/tar", {"-xzf", LEANOS_SEALED_V1_FIXTURE, "-C", tmp.path()}).exit_code == 0);
  const std::string dir = tmp.sub("v1fix"), key = tmp.sub("v1fix.master-key");
  auto es = open_at(dir, key);
  auto before = stream(*es, "deal-acme-corp");
  REQUIRE(before.size() == 1);
  CHECK(before[0].lead_captured().contact().name() == "Jane Roe");
  CHECK(before[0].lead_captured().contact().title() == "Chief Buyer");
  CHECK(before[0].lead_captured().signal() == "Jane Roe asked for a demo");
  auto stored = es->read_event(1, Personal::leave_sealed);
  REQUIRE(stored.is_ok());
  CHECK(stored->sealed().fields_size() == 4);  // the first format indeed
  CHECK(stored->sealed().paths_size() == 0);
  append(*es, "deal-acme-corp", notes("acme-corp", "Jane liked the demo"));
  auto added = es->read_event(es->last_position(), Personal::leave_sealed);
  REQUIRE(added.is_ok());
  CHECK(added->sealed().paths_size() == 1);  // new events: compact
  CHECK(added->sealed().fields_size() == 0);
  CHECK(added->sealed().subject() == stored->sealed().subject());  // the deal's notes go with its contact
  CHECK(stream(*es, "deal-acme-corp")[1].action_completed().notes() == "Jane liked the demo");
  REQUIRE(es->forget("jane.roe@acme.example", "erasure request", "dpo").is_ok());
  auto after = stream(*es, "deal-acme-corp");
  CHECK(after[0].lead_captured().contact().name() == "[erased]");
  CHECK(after[1].action_completed().notes() == "[erased]");
  CHECK(stream(*es, "deal-beta")[0].lead_captured().contact().name() == "Bob Stone");
  CHECK(es->verify().clean());
}

TEST_CASE("a backup taken before an erasure forgets the subject again when it is opened") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), backup = tmp.sub("backup"), key = tmp.sub("master.key");
  {
    auto es = open_at(dir, key);
    append(*es, "deal-acme", lead("acme", "Jane Roe", "jane@acme.test", "VP Sales"));
    append(*es, "deal-beta", lead("beta", "Bob Stone", "bob@beta.test", "CTO"));
    REQUIRE(es->backup(backup).is_ok());
    REQUIRE(es->forget("jane@acme.test", "erasure request", "ops").is_ok());
    // The person comes back later and is recorded again: a new key, not erased by the list.
    append(*es, "deal-acme2", lead("acme2", "Jane Roe", "jane@acme.test", "CEO"));
  }
  {
    auto restored = open_at(backup, key);
    CHECK(stream(*restored, "deal-acme")[0].lead_captured().contact().name() == kErased);
    CHECK(stream(*restored, "deal-beta")[0].lead_captured().contact().name() == "Bob Stone");
  }
  CHECK(wrapped_keys(backup).size() == 1);
  auto es = open_at(dir, key);
  CHECK(stream(*es, "deal-acme")[0].lead_captured().contact().name() == kErased);
  CHECK(stream(*es, "deal-acme2")[0].lead_captured().contact().title() == "CEO");
}

TEST_CASE("a forgotten-subjects list a power cut tore opens, its torn line cut off by the next erasure, and a real defect is still refused") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key");
  const std::string list = forgotten_list_file(key);
  {
    auto es = open_at(dir, key);
    append(*es, "deal-acme", lead("acme", "Jane Roe", "jane@acme.test", "VP Sales"));
    append(*es, "deal-beta", lead("beta", "Bob Stone", "bob@beta.test", "CTO"));
    REQUIRE(es->forget("jane@acme.test", "erasure request", "ops").is_ok());
  }
  struct stat st {};
  REQUIRE(::stat(list.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The power went while an erasure's line was being written: part of it is on the disk, its
  // sync never returned, the erasure was never acknowledged (before, the store did not open).
  { std::ofstream(list, std::ios::app) << "0123456789abcdef01"; }
  {
    auto es = open_at(dir, key);
    CHECK(stream(*es, "deal-acme")[0].lead_captured().contact().name() == kErased);
    REQUIRE(es->forget("bob@beta.test", "erasure request", "ops").is_ok());
  }
  auto listed = read_forgotten(key);
  REQUIRE(listed.is_ok());
  CHECK(listed->size() == 2);  // the torn part is gone, the new line whole
  std::ifstream in(list);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("0123456789abcdef01") == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  // Damage that is not a torn last line is still corruption, named.
  { std::ofstream(list, std::ios::app) << "not a line\n"; }
  auto damaged = read_forgotten(key);
  REQUIRE_FALSE(damaged.is_ok());
  CHECK(damaged.status().message().find("line 3 of the forgotten-subjects list") != std::string::npos);
}

TEST_CASE("without its master key the store is locked: nothing written, personal fields unreadable") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key"), other = tmp.sub("other.key");
  {
    auto es = open_at(dir, key);
    append(*es, "deal-acme", lead("acme", "Jane Roe", "jane@acme.test", "VP Sales"));
  }
  {
    auto es = open_at(dir, tmp.sub("missing.key"));
    CHECK(es->locked_reason().find(tmp.sub("missing.key")) != std::string::npos);
    const auto e = stream(*es, "deal-acme");
    CHECK(e[0].lead_captured().contact().name() == kLocked);
    CHECK(e[0].lead_captured().company() == "Acme Corp");
    auto r = es->append("notes-1", ExpectedVersion::any(), {notes("acme", "x")});
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == Code::read_only);
    CHECK(r.status().message().find("missing.key") != std::string::npos);
    CHECK(es->last_position() == 1);
    CHECK_FALSE(fs::exists(tmp.sub("missing.key")));  // never made up: that would be another workspace's key
  }
  {
    auto made = open_at(tmp.sub("elsewhere"), other);  // another workspace's key
    append(*made, "deal-x", lead("x", "X", "x@x.test", "X"));
  }
  {
    auto es = open_at(dir, other);
    CHECK(es->locked_reason().find("another key (another workspace's, or one rotated away)") != std::string::npos);
    CHECK(stream(*es, "deal-acme")[0].lead_captured().contact().email() == kLocked);
  }
  ::chmod(key.c_str(), 0644);
  {
    auto es = open_at(dir, key);
    CHECK(es->locked_reason().find("chmod 600") != std::string::npos);
  }
  ::chmod(key.c_str(), 0600);
  auto es = open_at(dir, key);
  CHECK(es->locked_reason().empty());
  CHECK(stream(*es, "deal-acme")[0].lead_captured().contact().name() == "Jane Roe");
}

TEST_CASE("tampered ciphertext fails to authenticate, naming the event's position") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key");
  {
    auto es = open_at(dir, key);
    append(*es, "notes-1", [] {
      Envelope e;
      e.set_type("Note");
      e.mutable_generic()->set_blob("x");
      return e;
    }());
    append(*es, "deal-acme", lead("acme", "Jane Roe", "jane@acme.test", "VP Sales"));
  }
  {  // flip one byte of a sealed box in the stored record
    RawDb raw(dir, false);
    std::string value;
    REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(kEventsCf), be64(2), &value).ok());
    Envelope e;
    REQUIRE(e.ParseFromString(value));
    REQUIRE(e.sealed().paths_size() > 0);
    std::string box = e.sealed().box();
    box.back() = static_cast<char>(box.back() ^ 1);
    e.mutable_sealed()->set_box(box);
    REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(kEventsCf), be64(2), e.SerializeAsString()).ok());
  }
  auto es = open_at(dir, key);
  auto r = es->read_event(2);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::corruption);
  CHECK(r.status().message().find("position 2") != std::string::npos);
  CHECK(r.status().message().find("does not authenticate") != std::string::npos);
  CHECK(es->read_event(1).is_ok());
  const auto report = es->verify();
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].position == 2);
  CHECK(report.problems[0].what.find("does not authenticate") != std::string::npos);
}

TEST_CASE("property: on random histories with random erasures, every event and projection equals the history blanked") {
  for (std::uint64_t seed : {std::uint64_t{3}, std::uint64_t{std::random_device{}()}}) {
    INFO("seed " << seed);
    TempDir tmp;
    StoreOptions o;
    o.durability = Durability::relaxed;  // a test of erasure, not of fsync
    o.master_key_file = tmp.sub("master.key");
    auto opened = EventStore::open(tmp.sub("data"), o);
    REQUIRE(opened.is_ok());
    auto& es = **opened;
    std::mt19937_64 rng(seed);
    test::HistoryOptions h;
    h.commands = 700;
    h.backdate_probability = 0;
    h.relearn_probability = 0.05;  // corrections: backdated to the learning they replace
    test::generate_history(es, rng, h, [](const v1::LedgerView&) {});
    const auto last = es.last_position();
    std::vector<Envelope> plain;
    REQUIRE(es.scan(1, last, [&](const Envelope& e) {
                plain.push_back(e);
                return true;
              }).is_ok());

    // Forget a random half of the contacts.
    std::set<std::string> forgotten;
    for (const auto& e : plain)
      if (e.has_lead_captured() && rng() % 2 == 0) forgotten.insert(e.lead_captured().contact().email());
    REQUIRE(forgotten.size() > 3);
    for (const auto& email : forgotten) REQUIRE(es.forget(email, "property test", "test").is_ok());

    // The reference: the same history with the fields of forgotten subjects blanked. An
    // event's subject is its contact's, else that of its stream's first event.
    std::map<std::string, std::string> stream_subject;
    std::vector<Envelope> expected;
    for (Envelope e : plain) {
      std::string subject = e.has_lead_captured() ? e.lead_captured().contact().email() : "";
      if (subject.empty()) subject = stream_subject[e.stream()];
      if (e.version() == 1) stream_subject[e.stream()] = subject;
      if (forgotten.count(subject)) blank(e, kErased);
      expected.push_back(std::move(e));
    }
    std::size_t i = 0, differ = 0, blanked = 0;
    REQUIRE(es.scan(1, last, [&](const Envelope& e) {
                if (e.SerializeAsString() != expected[i].SerializeAsString()) ++differ;
                if (e.SerializeAsString() != plain[i].SerializeAsString()) ++blanked;
                ++i;
                return true;
              }).is_ok());
    CHECK(differ == 0);
    CHECK(blanked >= forgotten.size());  // every forgotten contact's lead, at least

    // Folded in business-time order: a corrected learning takes its place at the date of the
    // learning it replaces, the one backdated fact such a history holds.
    std::vector<Envelope> in_business_order = expected;
    std::stable_sort(in_business_order.begin(), in_business_order.end(), [](const Envelope& a, const Envelope& b) { return occurs_before(a, b); });
    auto reference = projections::empty_ledger();
    for (const auto& e : in_business_order) projections::apply(reference, e);
    LedgerOptions replay;
    replay.use_snapshots = false;
    replay.write_snapshots = false;
    auto replayed = read_ledger(es, AsOf{.position = last}, replay);
    REQUIRE(replayed.is_ok());
    CHECK(projections::serialize(replayed->view) == projections::serialize(reference));
    LedgerOptions snapshots;  // written after the erasure, then read
    snapshots.snapshot_every = 50;
    snapshots.core_snapshot_every = 20;
    REQUIRE(read_ledger(es, AsOf{}, snapshots).is_ok());
    auto snapped = read_ledger(es, AsOf{.position = last});
    REQUIRE(snapped.is_ok());
    // A correction dated far back leaves no position snapshot usable after it: the view must
    // still be the reference's, and without corrections it must come from a snapshot.
    const bool corrected = std::any_of(plain.begin(), plain.end(), [](const Envelope& e) {
      return e.has_learning_recorded() && !e.learning_recorded().corrects_event_id().empty();
    });
    if (!corrected) CHECK(snapped->snapshot_position > 0);
    CHECK(projections::serialize(snapped->view) == projections::serialize(reference));
  }
}

TEST_CASE("appenders sealing at once: one key per new person, and a stream's text goes with its first event's subject") {
  TempDir tmp;
  auto es = open_at(tmp.sub("data"), tmp.sub("master.key"));
  // Eight appenders record the same new person at once: one key, all of it readable.
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i)
          REQUIRE(es->append("deal-" + std::to_string(t) + "-" + std::to_string(i), ExpectedVersion::any(),
                             {lead("d", "Ann Lee", "ann@lee.test", "CFO")})
                      .is_ok());
      });
    for (auto& th : threads) th.join();
  }
  auto all = es->read_all(1, 1000);
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 160);
  for (const auto& e : *all) CHECK(e.lead_captured().contact().name() == "Ann Lee");
  // Notes naming nobody race their stream's lead: whichever is stored first decides whose
  // text the notes are; forgetting the contacts erases exactly the notes of streams they opened.
  constexpr int kStreams = 40;
  for (int k = 0; k < kStreams; ++k) {
    const std::string stream = "deal-race-" + std::to_string(k);
    std::latch start(2);
    std::atomic<int> failed{0};
    std::thread notes_thread([&] {
      start.arrive_and_wait();
      if (!es->append(stream, ExpectedVersion::any(), {notes("r", "said yes")}).is_ok()) ++failed;
    });
    std::thread lead_thread([&] {
      start.arrive_and_wait();
      if (!es->append(stream, ExpectedVersion::any(), {lead("r", "P", "p" + std::to_string(k) + "@race.test", "T")}).is_ok()) ++failed;
    });
    notes_thread.join();
    lead_thread.join();
    REQUIRE(failed == 0);
  }
  for (int k = 0; k < kStreams; ++k) REQUIRE(es->forget("p" + std::to_string(k) + "@race.test", "test", "t").is_ok());
  for (int k = 0; k < kStreams; ++k) {
    const auto events = stream(*es, "deal-race-" + std::to_string(k));
    REQUIRE(events.size() == 2);
    const bool opened_by_lead = events[0].has_lead_captured();
    const auto& n = opened_by_lead ? events[1] : events[0];
    CHECK(n.action_completed().notes() == (opened_by_lead ? kErased : "said yes"));
  }
  CHECK(es->forget("ann@lee.test", "test", "t").is_ok());
  CHECK(es->verify().clean());
}

TEST_CASE("a store written before sealing is sealed once when opened, and its older contacts can be forgotten") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), key = tmp.sub("master.key");
  {
    auto es = open_at(dir, key);
    append(*es, "notes-1", [] {
      Envelope e;
      e.set_type("Note");
      e.mutable_generic()->set_blob("x");
      return e;
    }());
  }
  {  // as an older release wrote them: a lead and its notes in clear, and no "sealed" mark
    RawDb raw(dir, false);
    std::uint64_t position = 1;
    for (Envelope e : {lead("old", "Olga Old", "olga@old.test", "COO"), notes("old", "Olga wants a pilot")}) {
      ++position;
      e.set_position(position);
      e.set_version(position - 1);
      e.set_stream("deal-old");
      e.set_event_id("old-" + std::to_string(position));
      e.set_type(e.has_lead_captured() ? "LeadCaptured" : "ActionCompleted");
      REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(kEventsCf), be64(position), e.SerializeAsString()).ok());
      REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(kStreamsCf), named_key("deal-old", position - 1), be64(position)).ok());
      REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(kEventIdsCf), e.event_id(), be64(position)).ok());
    }
    REQUIRE(raw.db->Delete(rocksdb::WriteOptions(), raw.handles[0], kSealedMarker).ok());
  }
  REQUIRE_FALSE(files_holding(dir, "Olga Old").empty());  // in clear, as they were
  {
    auto es = open_at(dir, key);
    const auto old = stream(*es, "deal-old");
    REQUIRE(old.size() == 2);
    CHECK(old[0].lead_captured().contact().name() == "Olga Old");
    CHECK(old[1].action_completed().notes() == "Olga wants a pilot");
  }
  CHECK(files_holding(dir, "Olga Old").empty());
  CHECK(files_holding(dir, "olga@old.test").empty());
  CHECK(files_holding(dir, "wants a pilot").empty());
  auto es = open_at(dir, key);
  REQUIRE(es->forget("olga@old.test", "erasure request", "dpo").is_ok());
  const auto old = stream(*es, "deal-old");
  CHECK(old[0].lead_captured().contact().name() == kErased);
  CHECK(old[1].action_completed().notes() == kErased);
  CHECK(old[0].lead_captured().company() == "Acme Corp");
}

TEST_CASE("rotating the master key re-wraps every data key: the old key opens nothing, the new one everything") {
  TempDir tmp;
  const std::string dir = tmp.sub("data"), old_key = tmp.sub("old.key"), new_key = tmp.sub("new.key");
  {
    auto es = open_at(dir, old_key);
    append(*es, "deal-acme", lead("acme", "Jane Roe", "jane@acme.test", "VP Sales"));
    append(*es, "deal-beta", lead("beta", "Bob Stone", "bob@beta.test", "CTO"));
    REQUIRE(es->forget("bob@beta.test", "erasure request", "dpo").is_ok());
  }
  const auto wrapped_before = wrapped_keys(dir);
  REQUIRE(wrapped_before.size() == 1);
  StoreOptions o;
  o.master_key_file = old_key;
  auto exists = EventStore::rotate_master_key(dir, o, old_key);
  REQUIRE_FALSE(exists.is_ok());
  CHECK(exists.message().find("exists already") != std::string::npos);
  auto rotated = EventStore::rotate_master_key(dir, o, new_key);
  REQUIRE_MESSAGE(rotated.is_ok(), rotated.to_string());
  struct stat st {};
  REQUIRE(::stat(new_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(fs::exists(new_key + ".forgotten"));  // the erasures go with the key
  CHECK(files_holding(dir, wrapped_before[0]).empty());  // nothing wrapped under the old key is left
  {
    auto es = open_at(dir, old_key);
    CHECK(es->locked_reason().find("another key (another workspace's, or one rotated away)") != std::string::npos);
  }
  auto es = open_at(dir, new_key);
  CHECK(es->locked_reason().empty());
  CHECK(stream(*es, "deal-acme")[0].lead_captured().contact().name() == "Jane Roe");
  CHECK(stream(*es, "deal-beta")[0].lead_captured().contact().name() == kErased);
  append(*es, "deal-gamma", lead("gamma", "Gus", "gus@gamma.test", "CEO"));
  CHECK(stream(*es, "deal-gamma")[0].lead_captured().contact().name() == "Gus");
}

TEST_CASE("a data key not yet written survives the key cache filling up: one append of 70 000 new people") {
  // The cache of opened keys is bounded (65 536 subjects). Dropping a key made in this very
  // append would make the next event of that person a second key, whose record replaces the
  // first and leaves the events sealed under it unreadable.
  TempDir tmp;
  auto es = open_at(tmp.sub("data"), tmp.sub("master.key"));
  std::vector<Envelope> batch;
  auto contact = [](int i) {
    Envelope e;
    auto* c = e.mutable_contact_added();
    c->set_campaign_id("big");
    c->mutable_contact()->set_name("Person " + std::to_string(i));
    c->mutable_contact()->set_email("p" + std::to_string(i) + "@big.test");
    return e;
  };
  for (int i = 0; i < 70'000; ++i) batch.push_back(contact(i));
  batch.push_back(contact(0));  // the first person again, after the cache filled
  auto r = es->append("campaign-big", ExpectedVersion::no_stream(), std::move(batch));
  REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
  auto first = es->read_event(1);
  REQUIRE(first.is_ok());
  CHECK(first->contact_added().contact().name() == "Person 0");
  auto last = es->read_event(70'001);
  REQUIRE(last.is_ok());
  CHECK(last->contact_added().contact().name() == "Person 0");
}

TEST_CASE("random bytes never repeat across a fork: the child's nonces are not its parent's") {
  unsigned char before[24];
  random_bytes(before, sizeof before);  // the parent's stream is keyed before the fork
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    unsigned char child[24];
    random_bytes(child, sizeof child);
    const bool sent = ::write(fds[1], child, sizeof child) == static_cast<ssize_t>(sizeof child);
    ::_exit(sent ? 0 : 1);
  }
  ::close(fds[1]);
  unsigned char parent[24], child[24];
  random_bytes(parent, sizeof parent);
  std::size_t got = 0;
  while (got < sizeof child) {
    const auto n = ::read(fds[0], child + got, sizeof child - got);
    REQUIRE(n > 0);
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(std::memcmp(parent, child, sizeof parent) != 0);  // the same stream would give the same bytes
  CHECK(std::memcmp(before, parent, sizeof parent) != 0);
}

// A generic event with what a record must keep byte for byte: metadata, text beyond ASCII,
// and a field only a newer client knows.
Envelope varied_note() {
  Envelope e;
  e.set_type("NoteTaken");
  (*e.mutable_metadata())["git_commit"] = "abc123";
  e.mutable_generic()->set_blob("naïve café ✓");
  e.GetReflection()->MutableUnknownFields(&e)->AddVarint(999, 5);
  return e;
}

TEST_CASE("every stored record is the plain encoding of its event, however the writer put it together") {
  TempDir dir;
  const std::string data = dir.sub("data"), key = dir.sub("master-key");
  {
    auto es = open_at(data, key);
    // What a caller sets of the store's fields is not kept.
    Envelope generic = varied_note();
    generic.set_position(999);
    generic.set_version(77);
    generic.set_stream("acme-log");
    to_timestamp(978'307'200'000'000, generic.mutable_recorded_at());
    generic.set_causation_id("cmd-1");
    generic.set_actor("agent:écrivain");
    Envelope dated = lead("d-1", "Jane Doe", "jane@acme.example", "VP Sales");
    to_timestamp(1'700'000'000'000'000, dated.mutable_occurred_at());
    auto r = es->append("acme-log", ExpectedVersion::any(),
                        {generic, dated, lead("d-1", "Bob Roe", "bob@acme.example", "CTO"), notes("d-1", "Jane was pleased")});
    REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
    append(*es, "deal-other", notes("d-2", "no one named"));
    REQUIRE(es->forget("jane@acme.example", "asked to be forgotten", "test").is_ok());
    auto copy = es->read_all(1, 100, std::numeric_limits<std::size_t>::max(), Personal::leave_sealed);
    REQUIRE(copy.is_ok());
    REQUIRE(copy->size() == 6);
  }
  RawDb raw(data, true);
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), raw.cf(kEventsCf)));
  std::uint64_t position = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++position;
    Envelope e;
    REQUIRE(e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
    INFO("position ", position);
    CHECK(e.SerializeAsString() == it->value().ToString());
    CHECK(e.position() == position);
    CHECK(it->key().ToString() == be64(position));
    CHECK(e.has_recorded_at());
    CHECK(e.has_occurred_at());
    if (position == 1) {
      CHECK(e.version() == 1);
      CHECK(e.stream() == "acme-log");
      CHECK(from_timestamp(e.recorded_at()) > 978'307'200'000'000);
      CHECK(e.metadata().at("git_commit") == "abc123");
      CHECK(e.generic().blob() == "naïve café ✓");
      CHECK(e.GetReflection()->GetUnknownFields(e).field_count() == 1);
    }
    if (position == 2) CHECK(from_timestamp(e.occurred_at()) == 1'700'000'000'000'000);
    if (position <= 4) CHECK(e.version() == position);
  }
  CHECK(position == 6);
}

TEST_CASE("read_records passes each event on as read_all's encoding, opening sealed fields only when asked") {
  TempDir dir;
  const std::string data = dir.sub("data"), key = dir.sub("master-key");
  {
    auto es = open_at(data, key);
    append(*es, "notes-1", varied_note());
    append(*es, "deal-acme", lead("d-1", "Jane Doe", "jane@acme.example", "VP Sales"));
    append(*es, "deal-acme", notes("d-1", "Jane was pleased"));
    append(*es, "deal-bob", lead("d-2", "Bob Roe", "bob@acme.example", "CTO"));
    REQUIRE(es->forget("bob@acme.example", "asked to be forgotten", "test").is_ok());
    const std::uint64_t last = es->last_position();
    REQUIRE(last == 5);
    for (auto personal : {Personal::open, Personal::leave_sealed}) {
      INFO("sealed left sealed: ", personal == Personal::leave_sealed);
      auto events = es->read_all(1, 100, std::numeric_limits<std::size_t>::max(), personal);
      auto records = es->read_records(1, 100, std::numeric_limits<std::size_t>::max(), personal);
      REQUIRE(events.is_ok());
      REQUIRE(records.is_ok());
      REQUIRE(records->size() == events->size());
      for (std::size_t i = 0; i < events->size(); ++i) {
        INFO("position ", i + 1);
        const auto& r = (*records)[i];
        CHECK(r.position == i + 1);
        CHECK(r.stream == (*events)[i].stream());
        CHECK(r.type == (*events)[i].type());
        CHECK(r.bytes == (*events)[i].SerializeAsString());
      }
      // Opened, the contact reads in clear and the forgotten one as erased; sealed, neither.
      Envelope jane, bob;
      REQUIRE(jane.ParseFromString((*records)[1].bytes));
      REQUIRE(bob.ParseFromString((*records)[3].bytes));
      const bool open = personal == Personal::open;
      CHECK((jane.SerializeAsString().find("Jane Doe") != std::string::npos) == open);
      CHECK(jane.has_sealed() == !open);
      CHECK(bob.SerializeAsString().find("Bob Roe") == std::string::npos);
    }
    // Bounded like read_all: by count, and by bytes past the first record.
    auto two = es->read_records(2, 2, std::numeric_limits<std::size_t>::max(), Personal::open);
    REQUIRE(two.is_ok());
    REQUIRE(two->size() == 2);
    CHECK((*two)[0].position == 2);
    auto one = es->read_records(1, 100, 1, Personal::open);
    REQUIRE(one.is_ok());
    CHECK(one->size() == 1);
    CHECK(es->read_records(last + 1, 100, std::numeric_limits<std::size_t>::max(), Personal::open)->empty());
  }
  {  // a record cut short, and one stored under another position
    RawDb raw(data, false);
    std::string value;
    REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(kEventsCf), be64(3), &value).ok());
    REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(kEventsCf), be64(3), value.substr(0, value.size() - 3)).ok());
    REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.cf(kEventsCf), be64(1), &value).ok());
    REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.cf(kEventsCf), be64(5), value).ok());
  }
  auto es = open_at(data, key);
  for (std::uint64_t at : {3, 5}) {
    auto r = es->read_records(at, 100, std::numeric_limits<std::size_t>::max(), Personal::leave_sealed);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == Code::corruption);
    CHECK(r.status().message().find("position " + std::to_string(at)) != std::string::npos);
  }
  auto before = es->read_records(1, 2, std::numeric_limits<std::size_t>::max(), Personal::open);
  REQUIRE(before.is_ok());
  CHECK(before->size() == 2);
}
