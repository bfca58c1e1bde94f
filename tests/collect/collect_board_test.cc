// tml flash / devices / collect / stop against real emulated boards: the collection firmware as a
// Linux process (host) and in QEMU (qemu-m4), replaying real files. The takes written must equal
// the replayed signal bit for bit.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collect/audio_file.h"
#include "collect/camera_frame.h"
#include "collect/csv_file.h"
#include "core/atomic_file.h"
#include "core/process.h"
#include "preprocess/image_ops.h"
#include "test_support.h"

namespace tml::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

json run_json(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> a = {"--json"};
  a.insert(a.end(), args.begin(), args.end());
  const ProcessResult r = run_tml(a, cwd);
  EXPECT_EQ(r.exit_code, 0) << "tml " << args[0] << ": " << r.err << r.out;
  return r.out.empty() ? json() : json::parse(r.out);
}

// Stops the project's board at the end of a test, whatever happens.
struct BoardGuard {
  fs::path project;
  ~BoardGuard() { run_tml({"stop"}, project); }
};

std::vector<std::int16_t> pcm_of(const fs::path& wav) {
  const AudioClip c = read_audio(wav);
  std::vector<std::int16_t> pcm(c.samples.size());
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(std::lround(c.samples[i] * 32768.0f));
  return pcm;
}

void collect_audio_bit_exact(const std::string& board) {
  TempDir tmp;
  const fs::path project = tmp / "vc";
  ASSERT_EQ(run_tml({"new", "vc", "--template", "voice-control", "--dir", project.string()}, tmp.path()).exit_code, 0);
  const fs::path yes = shared_data("audio/yes_1000ms.wav"), no = shared_data("audio/no_1000ms.wav");
  BoardGuard guard{project};
  const json flash = run_json({"flash", "--board", board, "--replay", yes.string(), no.string()}, project);
  ASSERT_EQ(flash["hello"]["board"], board);
  ASSERT_EQ(flash["hello"]["sensors"][0]["kind"], "audio");
  const json devices = run_json({"devices"}, project);
  ASSERT_EQ(devices["emulated_boards"].size(), 1u);
  EXPECT_EQ(devices["emulated_boards"][0]["hello"]["board"], board);

  const json got = run_json({"collect", "--label", "yes", "--count", "2", "--fast"}, project);
  ASSERT_EQ(got["kept"].size(), 2u) << got.dump(2);
  EXPECT_TRUE(got["rejected"].empty()) << got.dump(2);
  // The replay loops over yes then no: take 1 is yes, take 2 is no, sample for sample.
  const auto want_yes = pcm_of(yes), want_no = pcm_of(no);
  const auto take1 = pcm_of(project / "dataset" / got["kept"][0]["path"].get<std::string>());
  const auto take2 = pcm_of(project / "dataset" / got["kept"][1]["path"].get<std::string>());
  EXPECT_TRUE(take1 == want_yes) << "first take differs from yes_1000ms.wav";
  EXPECT_TRUE(take2 == want_no) << "second take differs from no_1000ms.wav";
  const json& capture = got["kept"][0]["capture"];
  EXPECT_EQ(capture["frames_lost"], 0);
  EXPECT_EQ(capture["frames_corrupt"], 0);
  EXPECT_TRUE(capture["clean"].get<bool>());
  std::printf("[ collect ] %s: 2 takes of 32000 bytes, link %.0f bytes/s\n", board.c_str(),
              capture["link_bytes_per_s"].get<double>());
  const json stop = run_json({"stop"}, project);
  EXPECT_TRUE(stop["stopped"].get<bool>());
  EXPECT_FALSE(fs::exists(project / ".tml" / "board.json"));
}

TEST(CollectBoard, AudioFromHostBoardIsBitExact) { collect_audio_bit_exact("host"); }
TEST(CollectBoard, AudioFromQemuBoardIsBitExact) { collect_audio_bit_exact("qemu-m4"); }

TEST(CollectBoard, CameraFromQemuBoardIsBitExact) {
  TempDir tmp;
  const fs::path project = tmp / "wl";
  ASSERT_EQ(run_tml({"new", "wl", "--template", "wildlife", "--dir", project.string()}, tmp.path()).exit_code, 0);
  const fs::path person = shared_data("images/person.bmp");
  BoardGuard guard{project};
  run_json({"flash", "--board", "qemu-m4", "--replay", person.string()}, project);
  const json got = run_json({"collect", "--label", "person", "--fast"}, project);
  ASSERT_EQ(got["kept"].size(), 1u) << got.dump(2);
  // What the camera saw: person.bmp at 160x120 as RGB565, decoded as the board decodes it.
  cv::Mat bgr = cv::imread(person.string(), cv::IMREAD_COLOR), rgb;
  cv::resize(bgr, bgr, cv::Size(160, 120), 0, 0, cv::INTER_AREA);
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const auto frame = encode_camera_frame(rgb, proto::SampleFormat::rgb565);
  cv::Mat decoded(120, 160, CV_8UC3);
  ASSERT_EQ(pre::decode_pixels(frame.data(), frame.size(), pre::PixelFormat::rgb565, 160, 120,
                               pre::ImageU8{decoded.data, 160, 120, 3}),
            pre::Status::ok);
  cv::Mat stored = cv::imread((project / "dataset" / got["kept"][0]["path"].get<std::string>()).string(), cv::IMREAD_COLOR);
  cv::cvtColor(stored, stored, cv::COLOR_BGR2RGB);
  ASSERT_EQ(stored.size(), decoded.size());
  EXPECT_EQ(cv::norm(stored, decoded, cv::NORM_INF), 0.0);
}

TEST(CollectBoard, ImuFromQemuBoardIsBitExact) {
  TempDir tmp;
  const fs::path project = tmp / "mt";
  ASSERT_EQ(run_tml({"new", "mt", "--template", "maintenance", "--dir", project.string()}, tmp.path()).exit_code, 0);
  // 2 s at 952 Hz of a 30 Hz imbalance with harmonics (a synthetic vibration: no offline set exists).
  std::string csv = "ax,ay,az\n";
  std::vector<float> values;
  for (int r = 0; r < 1904; ++r) {
    const double t = r / 952.0;
    const float v[3] = {static_cast<float>(0.6 * std::sin(2 * M_PI * 30 * t) + 0.1 * std::sin(2 * M_PI * 90 * t)),
                        static_cast<float>(0.6 * std::cos(2 * M_PI * 30 * t)),
                        static_cast<float>(1.0 + 0.02 * std::sin(2 * M_PI * 60 * t))};
    char line[96];
    std::snprintf(line, sizeof line, "%.9g,%.9g,%.9g\n", double(v[0]), double(v[1]), double(v[2]));
    csv += line;
    values.insert(values.end(), v, v + 3);
  }
  write_text(tmp / "vibration.csv", csv);
  BoardGuard guard{project};
  run_json({"flash", "--board", "qemu-m4", "--replay", (tmp / "vibration.csv").string()}, project);
  const json got = run_json({"collect", "--label", "imbalance", "--fast"}, project);
  ASSERT_EQ(got["kept"].size(), 1u) << got.dump(2);
  const std::string stored = read_text(project / "dataset" / got["kept"][0]["path"].get<std::string>());
  const CsvTable table = parse_csv(stored, "stored.csv");
  ASSERT_EQ(table.rows.size(), 1904u);
  std::size_t exact = 0;
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    for (std::size_t c = 0; c < 3; ++c) exact += static_cast<float>(table.rows[r][c]) == values[r * 3 + c] ? 1 : 0;
  EXPECT_EQ(exact, values.size());
}

TEST(CollectBoard, ClearErrorsWithoutABoard) {
  TempDir tmp;
  const fs::path project = tmp / "vc";
  ASSERT_EQ(run_tml({"new", "vc", "--template", "voice-control", "--dir", project.string()}, tmp.path()).exit_code, 0);
  ProcessResult r = run_tml({"collect", "--label", "yes", "--port", (tmp / "nothing.sock").string()}, project);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = run_tml({"collect", "--label", "nosuchlabel"}, project);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not a label"), std::string::npos) << r.err;
  r = run_tml({"flash", "--board", "host", "--replay", (project / "tml.yaml").string()}, project);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_tml({"stop"}, project);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("No board was running"), std::string::npos);
}

}  // namespace
}  // namespace tml::test

namespace tml::test {
namespace {

// A real-time take lasts its length: interrupting or killing the board mid-way must keep every
// finished take and leave no partial file.
TEST(CollectBoard, CtrlCKeepsFinishedTakesAndADeadBoardFailsFast) {
  TempDir tmp;
  const fs::path project = tmp / "vc";
  ASSERT_EQ(run_tml({"new", "vc", "--template", "voice-control", "--dir", project.string()}, tmp.path()).exit_code, 0);
  BoardGuard guard{project};
  run_json({"flash", "--board", "host", "--replay", shared_data("audio/yes_1000ms.wav").string(),
            shared_data("audio/no_1000ms.wav").string()},
           project);
  {
    Process collect({tml_binary().string(), "-C", project.string(), "collect", "--label", "yes", "--count", "10"});
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two 1 s takes done, the third running
    collect.send_signal(SIGINT);
    const ProcessResult r = collect.wait();
    EXPECT_EQ(r.exit_code, 130) << r.err;
  }
  const json after_interrupt = run_json({"dataset"}, project);
  const ProcessResult check = run_tml({"dataset", "check"}, project);
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(project / "dataset"))
    if (e.is_regular_file() && e.path().filename() != "manifest.jsonl" && e.path().filename().string()[0] != '.') {
      ++files;  // (dot files: the store's lock)
      EXPECT_EQ(e.path().extension(), ".wav") << "a leftover: " << e.path().string();
    }
  EXPECT_EQ(files, 2u) << "the two finished takes, nothing of the interrupted one";

  // The board dies during a take: a clear error (exit code 3) within seconds, not a hang.
  const json board = json::parse(read_text(project / ".tml" / "board.json"));
  Process collect({tml_binary().string(), "-C", project.string(), "collect", "--label", "no", "--count", "10"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(board["pid"].get<int>(), SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  const ProcessResult r = collect.wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_LT(seconds, 3.0) << "noticed the dead board after " << seconds << " s";
  EXPECT_EQ(run_tml({"dataset", "check"}, project).exit_code, 0);
}

}  // namespace
}  // namespace tml::test
