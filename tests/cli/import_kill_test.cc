// kill -9 at random moments of an import of 240 real-speech files: after every kill the manifest
// parses, every entry matches its file, and a rerun finishes the import.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "collect/audio_file.h"
#include "core/atomic_file.h"
#include "core/dataset_store.h"
#include "core/sha256.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr int kFiles = 240;
constexpr int kKills = 6;

// kFiles distinct clips: the real recordings, each rotated by a different number of samples.
void make_clips(const fs::path& dir) {
  fs::create_directories(dir);
  const char* sources[] = {"yes_1000ms.wav", "no_1000ms.wav", "silence_1000ms.wav", "noise_1000ms.wav"};
  for (int i = 0; i < kFiles; ++i) {
    AudioClip clip = read_audio(test::shared_data(std::string("audio/") + sources[i % 4]));
    std::rotate(clip.samples.begin(), clip.samples.begin() + 37 * (i / 4 + 1), clip.samples.end());
    write_file_atomic(dir / ("clip" + std::to_string(1000 + i) + ".wav"), encode_wav_pcm16(clip));
  }
}

// Checks the store as a reader finds it right after a kill; returns the number of entries.
std::size_t check_consistent(const fs::path& dataset) {
  std::string text = test::read_text(dataset / kManifestName);
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "torn last line";
  std::set<std::string> ids;
  std::size_t n = 0;
  for (const auto& line : test::lines_of(text)) {
    json e = json::parse(line, nullptr, false);
    EXPECT_TRUE(e.is_object()) << "line " << n + 1 << " does not parse: " << line;
    if (!e.is_object()) continue;
    EXPECT_TRUE(ids.insert(e["id"].get<std::string>()).second) << "duplicate id";
    fs::path file = dataset / e["path"].get<std::string>();
    EXPECT_TRUE(fs::exists(file)) << file;
    if (fs::exists(file)) {
      EXPECT_EQ(sha256_file(file), e["sha256"].get<std::string>()) << file;
    }
    ++n;
  }
  DatasetStore store(dataset);  // the store's own reader accepts it too
  EXPECT_EQ(store.entries().size(), n);
  return n;
}

TEST(ImportKill, ManifestStaysValidAndRerunFinishes) {
  test::TempDir dir;
  make_clips(dir / "clips");
  for (const char* p : {"reference", "victim"}) {
    ASSERT_EQ(test::run_tml({"new", p, "--template", "voice-control"}, dir.path()).exit_code, 0);
  }
  const std::vector<std::string> import = {"import", (dir / "clips").string(), "--label", "yes"};

  auto start = std::chrono::steady_clock::now();
  ProcessResult ref = test::run_tml(import, dir / "reference");
  auto full = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  ASSERT_EQ(check_consistent(dir / "reference/dataset"), static_cast<std::size_t>(kFiles));

  std::random_device rd;
  unsigned seed = rd();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // Each rerun skips what is already committed and so ends sooner: draw from the first 60%.
  std::uniform_real_distribution<double> when(0.02, 0.6);
  std::size_t previous = 0, killed_midway = 0;
  for (int k = 0; k < kKills; ++k) {
    Process victim({test::tml_binary().string(), import[0], import[1], import[2], import[3]},
                   {.cwd = dir / "victim"});
    std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::microseconds>(full * when(rng)));
    victim.send_signal(SIGKILL);
    ProcessResult r = victim.wait();
    std::size_t n = check_consistent(dir / "victim/dataset");
    EXPECT_GE(n, previous) << "a kill lost committed samples";
    killed_midway += r.signal == SIGKILL && n < static_cast<std::size_t>(kFiles);
    previous = n;
  }
  std::printf("[          ] %zu of %d kills landed mid-import; %zu of %d samples committed before the rerun\n",
              killed_midway, kKills, previous, kFiles);

  ProcessResult rerun = test::run_tml({"--json", import[0], import[1], import[2], import[3]}, dir / "victim");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(check_consistent(dir / "victim/dataset"), static_cast<std::size_t>(kFiles));
  DatasetStore store(dir / "victim/dataset");
  EXPECT_TRUE(unlisted_files(store).empty());
  EXPECT_EQ(test::run_tml({"dataset", "check"}, dir / "victim").exit_code, 0);
  // Same content, same ids and splits as the uninterrupted import.
  EXPECT_EQ(test::snapshot(dir / "victim/dataset/yes"), test::snapshot(dir / "reference/dataset/yes"));
}

}  // namespace
}  // namespace tml
