// Damage the disk did to each kind of file the store writes (#37): a byte flipped in the
// write-ahead log, a table file (the key vault's among them), a blob file (projection
// snapshots) and the MANIFEST. Each is refused at open or found by verify, naming the file,
// and a read of it is an error — never a wrong event, key, state or workspace file.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "actors/files.h"
#include "events/domain.h"
#include "events/ids.h"
#include "store/event_store.h"
#include "tests/store_support.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::store;
using leanos::test::TempDir;
using leanos::test::event;
using leanos::test::open_store;

namespace {

// The files of `dir` whose name ends with `suffix`, largest first.
std::vector<std::filesystem::path> files_ending(const std::string& dir, const std::string& suffix) {
  std::vector<std::filesystem::path> out;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const auto name = f.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 && f.file_size() > 0)
      out.push_back(f.path());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return std::filesystem::file_size(a) > std::filesystem::file_size(b); });
  return out;
}

void flip_byte(const std::filesystem::path& file, std::uintmax_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

// The store in `dir` opened after a file of it ending in `ext` was damaged: refused at open,
// naming a file of that kind (null), or opened with verify finding the damage.
std::unique_ptr<EventStore> open_damaged(const std::string& dir, const std::string& ext) {
  auto opened = EventStore::open(dir);
  if (!opened) {
    CHECK_MESSAGE(opened.status().message().find(ext) != std::string::npos, opened.status().to_string());
    return nullptr;
  }
  CHECK_FALSE((*opened)->verify().clean());
  return std::move(*opened);
}

}  // namespace

TEST_CASE("a byte flipped in the middle of the write-ahead log is refused at open, naming the file, never read as its end") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 200; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("T", "", std::string(200, 'a' + i % 26))}).is_ok());
  }  // in the log only: nothing flushed
  const auto logs = files_ending(dir.path(), ".log");
  REQUIRE_FALSE(logs.empty());
  const auto size = std::filesystem::file_size(logs.front());
  REQUIRE(size > 10000);
  flip_byte(logs.front(), size / 3);
  auto opened = EventStore::open(dir.path());
  // Read as the log's end, the 2/3 after the flip would be gone without a word: refused instead.
  REQUIRE_FALSE(opened.is_ok());
  INFO(opened.status().to_string());
  CHECK(opened.status().message().find(logs.front().filename().string().substr(0, 6)) != std::string::npos);
}

TEST_CASE("a byte flipped in a table file is found by verify, and a read of it is an error, never a wrong event") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 300; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("T", "", std::string(300, 'a' + i % 26))}).is_ok());
    REQUIRE(es->flush().is_ok());
  }
  const auto tables = files_ending(dir.path(), ".sst");
  REQUIRE_FALSE(tables.empty());
  flip_byte(tables.front(), std::filesystem::file_size(tables.front()) / 4);
  auto opened = open_damaged(dir.path(), ".sst");
  if (!opened) return;
  auto all = opened->read_all(1, 1000);
  if (all.is_ok()) {  // what it reads is what was written
    for (const auto& e : *all) CHECK(e.generic().blob() == std::string(300, static_cast<char>('a' + (e.position() - 1) % 26)));
    CHECK(all->size() < 300);
  } else {
    INFO(all.status().to_string());
    CHECK(all.status().code() == Code::corruption);
  }
}

TEST_CASE("a read-only open, which reads filters and indexes only when a read needs them, never answers wrong from a damaged table") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 300; ++i) REQUIRE(es->append("s-" + std::to_string(i % 7), ExpectedVersion::any(), {event("T", "id-" + std::to_string(i))}).is_ok());
    REQUIRE(es->flush().is_ok());
  }
  // Each table damaged in turn (the filters, indexes and data of every family), in a copy.
  TempDir copies;
  for (const auto& table : files_ending(dir.path(), ".sst")) {
    const std::string copy = copies.sub(table.stem().string());
    std::filesystem::copy(dir.path(), copy);
    if (std::filesystem::exists(dir.path() + ".master-key")) std::filesystem::copy_file(dir.path() + ".master-key", copy + ".master-key");
    flip_byte(std::filesystem::path(copy) / table.filename(), std::filesystem::file_size(table) / 2);
    StoreOptions options;
    options.read_only = true;
    options.master_key_file = copy + ".master-key";
    auto opened = EventStore::open(copy, options);
    if (!opened) {
      INFO(opened.status().to_string());
      CHECK(opened.status().code() == Code::corruption);
      continue;
    }
    for (int i = 0; i < 300; i += 37) {  // an id found at its position, or an error: never another answer
      auto at = (*opened)->find_event_id("id-" + std::to_string(i));
      if (at.is_ok()) CHECK(*at == std::optional<std::uint64_t>(static_cast<std::uint64_t>(i + 1)));
      else CHECK(at.status().code() == Code::corruption);
    }
    auto all = (*opened)->read_all(1, 1000);
    if (all.is_ok())
      for (const auto& e : *all) CHECK(e.event_id() == "id-" + std::to_string(e.position() - 1));
    else
      CHECK(all.status().code() == Code::corruption);
  }
}

TEST_CASE("a byte flipped in a blob file (a projection snapshot) is found by verify and read as an error, never as a wrong state") {
  TempDir dir;
  const std::string state(64 * 1024, 's');  // past min_blob_size: the value goes to a blob file
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 20; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("T")}).is_ok());
    REQUIRE(es->put_snapshot("ledger", 20, state).is_ok());
    REQUIRE(es->flush().is_ok());
  }
  const auto blobs = files_ending(dir.path(), ".blob");
  REQUIRE_FALSE(blobs.empty());
  flip_byte(blobs.front(), std::filesystem::file_size(blobs.front()) / 2);
  auto opened = open_damaged(dir.path(), ".blob");
  if (!opened) return;
  auto& es = *opened;
  auto snapshot = es.snapshot_at_or_before("ledger", 20);
  if (snapshot.is_ok()) {
    REQUIRE(snapshot->has_value());
    CHECK((*snapshot)->second == state);  // what it reads is what was written
  } else {
    INFO(snapshot.status().to_string());
    CHECK(snapshot.status().code() == Code::corruption);
  }
  CHECK(es.read_all(1, 100)->size() == 20);  // the log itself is untouched
}

TEST_CASE("a byte flipped in the key vault's table file is found by verify, and no sealed field is opened with a damaged key") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 30; ++i) {
      auto e = event("Contacted");
      e.set_subject("person-" + std::to_string(i) + "@example.com");
      e.mutable_generic()->set_blob("note");
      REQUIRE(es->append("c-" + std::to_string(i), ExpectedVersion::any(), {e}).is_ok());
    }
    REQUIRE(es->flush().is_ok());
  }
  // Which table holds the keys' column family is not named on disk: each table is damaged in
  // turn, in a copy of the store, and each open must stay honest.
  const auto tables = files_ending(dir.path(), ".sst");
  REQUIRE_FALSE(tables.empty());
  TempDir copies;
  for (const auto& table : tables) {
    const std::string copy = copies.sub(table.stem().string());
    std::filesystem::copy(dir.path(), copy);
    std::filesystem::copy_file(dir.path() + ".master-key", copy + ".master-key");
    flip_byte(std::filesystem::path(copy) / table.filename(), std::filesystem::file_size(table) / 2);
    auto opened = open_damaged(copy, ".sst");
    if (!opened) continue;
    auto all = opened->read_all(1, 1000);
    if (all.is_ok())
      for (const auto& e : *all) CHECK(e.subject() == "person-" + e.stream().substr(2) + "@example.com");  // opened right, or not at all
    else
      CHECK(all.status().code() == Code::corruption);
  }
}

TEST_CASE("a byte flipped in the MANIFEST is refused at open, never opened as a log that lost its tables") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 50; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("T")}).is_ok());
    REQUIRE(es->flush().is_ok());
  }
  std::vector<std::filesystem::path> manifests;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    if (f.path().filename().string().rfind("MANIFEST-", 0) == 0) manifests.push_back(f.path());
  REQUIRE(manifests.size() == 1);
  flip_byte(manifests.front(), std::filesystem::file_size(manifests.front()) / 2);
  auto opened = EventStore::open(dir.path());
  if (opened.is_ok()) {
    MESSAGE("opened: last position " << (*opened)->last_position() << ", verify clean " << (*opened)->verify().clean() );
  }
  REQUIRE_FALSE(opened.is_ok());
  INFO(opened.status().to_string());
  CHECK(opened.status().code() == Code::corruption);
  CHECK(opened.status().message().find("restore the folder") != std::string::npos);
}

// A checkout checks each file's content whole against its SHA-256, not each delta base on the
// way to it: a base that reads as other bytes than its digest must still make the content
// built on it an error, never a wrong file.
TEST_CASE("a file content built on a damaged delta base is refused, named, never given back as other bytes") {
  TempDir dir;
  auto es = open_store(dir.path());
  std::string base_text;  // text the new version can only be told from by its base: no run repeats
  for (std::uint32_t x = 7; base_text.size() < 3000;) base_text += static_cast<char>('a' + (x = x * 1103515245 + 12345) % 26);
  const std::string text = base_text + "one line more\n";
  const std::string base_sha = sha256_hex(base_text), sha = sha256_hex(text);
  // The base as a damaged disk would hold it: the event is whole, its bytes are not the ones
  // its digest names.
  auto damaged = file_content_commands(std::string(3000, 'b'), base_sha, 1'000'000);
  const StoredContent base{.sha256 = base_sha, .bytes = base_text};
  auto built = file_content_commands(text, sha, 2'000'000, &base);
  REQUIRE(built.size() == 1);
  REQUIRE(built.front().file_content().base_sha256() == base_sha);  // stored as a delta of the base
  for (auto* batch : {&damaged, &built}) REQUIRE(es->append(kFileContentsStream, ExpectedVersion::any(), *batch).is_ok());
  for (const auto& want : {base_sha, sha}) {
    auto bytes = file_bytes(*es, want);
    REQUIRE_FALSE(bytes.is_ok());
    INFO(bytes.status().to_string());
    CHECK(bytes.status().code() == Code::corruption);
    CHECK(bytes.status().message().find(want) != std::string::npos);
  }
}
