#include "core/dataset_store.h"

#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/sha256.h"
#include "core/split.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

json entry_for(const std::string& label, const std::string& content) {
  std::string sha = sha256_hex(content);
  std::string id = sha.substr(0, 16);
  return json{{"id", id}, {"label", label}, {"split", "train"}, {"path", label + "/" + id + ".csv"}, {"sha256", sha}};
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Split, StableAndProportional) {
  SplitFractions f{.test = 0.2, .validation = 0.1};
  int test = 0, validation = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::string id = "sample" + std::to_string(i);
    std::string s = split_for(id, f);
    EXPECT_EQ(s, split_for(id, f));
    test += s == "test";
    validation += s == "validation";
  }
  EXPECT_NEAR(test / double(n), 0.2, 0.015);
  EXPECT_NEAR(validation / double(n), 0.1, 0.015);
  // Pinned values (computed independently from SHA-256("split:" + id)): the assignment must never
  // change between versions, or existing samples would move between splits.
  EXPECT_EQ(split_for("id2", f), "train");
  EXPECT_EQ(split_for("id1", f), "validation");
  EXPECT_EQ(split_for("id0", f), "test");
}

TEST(DatasetStore, AddCommitReopen) {
  test::TempDir dir;
  {
    DatasetStore store(dir.path());
    store.begin_writing();
    store.add(entry_for("a", "1,2,3\n"), bytes_of("1,2,3\n"));
    store.add(entry_for("b", "4,5,6\n"), bytes_of("4,5,6\n"));
    EXPECT_EQ(store.staged(), 2u);
    store.commit();
    EXPECT_EQ(store.staged(), 0u);
  }
  DatasetStore again(dir.path());
  ASSERT_EQ(again.entries().size(), 2u);
  EXPECT_NE(again.find_by_sha256(sha256_hex("4,5,6\n")), nullptr);
  EXPECT_EQ(test::read_text(dir / ("a/" + again.entries()[0]["id"].get<std::string>() + ".csv")), "1,2,3\n");
  EXPECT_TRUE(unlisted_files(again).empty());
}

TEST(DatasetStore, CorruptManifestLineIsNamed) {
  test::TempDir dir;
  test::write_text(dir / kManifestName, entry_for("a", "x").dump() + "\n{\"id\": 3\n");
  try {
    DatasetStore store(dir.path());
    FAIL() << "corrupt manifest accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find(std::string(kManifestName) + ":2: not a JSON object"), std::string::npos)
        << e.what();
  }
}

TEST(DatasetStore, UnlistedLeftoverIsReportedThenAdopted) {
  test::TempDir dir;
  json e = entry_for("a", "7,8,9\n");
  test::write_text(dir / e["path"].get<std::string>(), "7,8,9\n");  // as if killed before the manifest commit
  DatasetStore store(dir.path());
  ASSERT_EQ(unlisted_files(store).size(), 1u);
  store.begin_writing();
  store.add(e, bytes_of("7,8,9\n"));
  store.commit();
  EXPECT_TRUE(unlisted_files(store).empty());
}

TEST(DatasetStore, SecondWriterIsRefused) {
  test::TempDir dir;
  DatasetStore first(dir.path());
  first.begin_writing();
  DatasetStore second(dir.path());
  try {
    second.begin_writing();
    FAIL() << "two writers at once";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another tml process"), std::string::npos);
  }
}

TEST(AtomicFile, ReplacesWithoutLeavingTempFiles) {
  test::TempDir dir;
  write_file_atomic(dir / "f.txt", "one");
  write_file_atomic(dir / "f.txt", "two");
  EXPECT_EQ(read_file_text(dir / "f.txt"), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace tml
