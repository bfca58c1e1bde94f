// The real tml binary, run as a user would: verbs, --json, exit codes, and bad input that must
// produce one clear line, the documented exit code and no written file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/project_file.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::run_tml;

json parse_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j;
}

// Expects a failure with CODE, one error line on stderr containing NEEDLE, and no file changed.
void expect_refused(const std::vector<std::string>& args, const fs::path& cwd, int code, const std::string& needle) {
  auto before = test::snapshot(cwd);
  ProcessResult r = run_tml(args, cwd);
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(test::lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(test::snapshot(cwd), before) << "something was written";
}

fs::path new_project(const test::TempDir& dir, const std::string& template_name) {
  ProcessResult r = run_tml({"new", "demo", "--template", template_name}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir / "demo";
}

TEST(Cli, VersionHelpAndOnlyWorkingVerbs) {
  test::TempDir dir;
  ProcessResult v = run_tml({"--version"}, dir.path());
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(v.out.starts_with("tml 0.")) << v.out;
  ProcessResult h = run_tml({"--help"}, dir.path());
  EXPECT_EQ(h.exit_code, 0);
  for (const char* verb :
       {"new", "config", "import", "dataset", "preprocess", "devices", "flash", "collect", "stop", "train", "build",
        "deploy", "run", "inspect", "doctor", "test", "monitor"})
    EXPECT_NE(h.out.find("  " + std::string(verb) + " "), std::string::npos) << verb;
  EXPECT_EQ(run_tml({"import", "--help"}, dir.path()).exit_code, 0);
  expect_refused({"frobnicate"}, dir.path(), 2, "frobnicate");
}

// Before any build the board verbs say what to do, in one line, writing nothing.
TEST(Cli, TestMonitorAndNanoFlashNeedABuildFirst) {
  test::TempDir dir;
  const fs::path project = new_project(dir, "voice-control");
  expect_refused({"test"}, project, 2, "run `tml build` first");
  expect_refused({"monitor"}, project, 2, "run `tml build` first");
  expect_refused({"test", "--board", "nano33ble"}, project, 2, "only the emulated boards");
  expect_refused({"monitor", "--hop-ms", "-5"}, project, 2, "hop-ms");
  expect_refused({"flash", "--board", "nano33ble"}, project, 2, "no compiled firmware for the Nano 33 BLE");
  // A firmware file but no board on this machine: the real serial ports are searched (libserialport).
  // No upload tool on PATH, so a Nano that happens to be attached is never flashed with this file.
  write_file_atomic(project / "app.bin", std::string(4096, '\x5a'));
  test::TempDir no_tools;
  const ProcessResult r = run_process({test::tml_binary().string(), "flash", "--board", "nano33ble", "--firmware", "app.bin"},
                                      {.cwd = project, .env = {{"PATH", no_tools.path().string()}}});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(test::lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("no Nano 33 BLE found"), std::string::npos) << r.err;
}

TEST(Cli, NewAndConfigForEveryTemplate) {
  for (const char* t : {"voice-control", "wildlife", "maintenance"}) {
    test::TempDir dir;
    fs::path project = new_project(dir, t);
    EXPECT_TRUE(fs::exists(project / "tml.yaml"));
    EXPECT_TRUE(fs::exists(project / "dataset/manifest.jsonl"));
    EXPECT_TRUE(fs::exists(project / ".gitignore"));
    ProcessResult r = run_tml({"-C", "demo", "config", "--json"}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json config = parse_json(r.out);
    EXPECT_EQ(config["name"], "demo");
    // Every default filled in: the same document the validator resolves from the file.
    EXPECT_EQ(config, load_project(project).config);
    ProcessResult yaml = run_tml({"config"}, project);
    EXPECT_EQ(yaml.exit_code, 0);
    // The YAML output is itself a valid project file describing the same configuration.
    EXPECT_EQ(resolve_project_yaml(yaml.out, "out.yaml"), config) << yaml.out;
  }
}

TEST(Cli, NewRefusesBadInput) {
  test::TempDir dir;
  expect_refused({"new", "x", "--template", "toaster"}, dir.path(), 2,
                 "--template toaster: unknown template; choose one of voice-control, wildlife, maintenance");
  new_project(dir, "wildlife");
  test::write_text(dir / "demo/notes.txt", "mine");
  expect_refused({"new", "demo", "--template", "wildlife"}, dir.path(), 2, "demo: already exists");
  expect_refused({"new", "bad/name", "--template", "wildlife"}, dir.path(), 2, "NAME 'bad/name'");
  ProcessResult json_err = run_tml({"--json", "new", "demo", "--template", "wildlife"}, dir.path());
  EXPECT_EQ(json_err.exit_code, 2);
  EXPECT_EQ(parse_json(json_err.out)["error"]["code"], 2);
}

TEST(Cli, ImportOneClipAndRefuseATruncatedCopy) {
  test::TempDir dir;
  fs::path project = new_project(dir, "voice-control");
  ProcessResult r = run_tml({"import", test::shared_data("audio/yes_1000ms.wav").string(), "--label", "yes"}, project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ProcessResult d = run_tml({"dataset", "--json"}, project);
  ASSERT_EQ(d.exit_code, 0);
  json summary = parse_json(d.out);
  EXPECT_EQ(summary["samples"], 1);
  EXPECT_EQ(summary["labels"]["yes"]["total"], 1);

  auto bytes = read_file_bytes(test::shared_data("audio/yes_1000ms.wav"));
  bytes.resize(bytes.size() / 2);
  write_file_atomic(dir / "cut.wav", bytes);
  std::string manifest = test::read_text(project / "dataset/manifest.jsonl");
  expect_refused({"import", (dir / "cut.wav").string(), "--label", "yes"}, project, 2, "cut.wav: truncated");
  EXPECT_EQ(test::read_text(project / "dataset/manifest.jsonl"), manifest);
  EXPECT_EQ(run_tml({"dataset", "check"}, project).exit_code, 0);
}

TEST(Cli, BadInputsAreOneLineWithNothingWritten) {
  test::TempDir dir;
  fs::path audio = new_project(dir, "voice-control");
  test::write_text(dir / "noise.wav", "RIFF but not really");
  expect_refused({"import", (dir / "noise.wav").string(), "--label", "yes"}, audio, 2, "noise.wav: not an audio file");

  auto clip = read_file_bytes(test::shared_data("audio/no_1000ms.wav"));
  clip[24] = 0x40, clip[25] = 0x1f;  // header sample rate 16000 -> 8000
  write_file_atomic(dir / "slow.wav", clip);
  expect_refused({"import", (dir / "slow.wav").string(), "--label", "no"}, audio, 2, "add --resample");

  test::TempDir cam_dir;
  fs::path camera = new_project(cam_dir, "wildlife");
  test::write_text(cam_dir / "photo.jpg", "JFIF? no");
  expect_refused({"import", (cam_dir / "photo.jpg").string(), "--label", "animal"}, camera, 2,
                 "photo.jpg: not an image");
  auto png = read_file_bytes(test::shared_data("images/person.bmp"));  // a BMP named .png, then cut
  png.resize(png.size() / 3);
  write_file_atomic(cam_dir / "cut.png", png);
  expect_refused({"import", (cam_dir / "cut.png").string(), "--label", "animal"}, camera, 2, "cut.png: not an image");

  test::TempDir imu_dir;
  fs::path imu = new_project(imu_dir, "maintenance");
  test::write_text(imu_dir / "ragged.csv", "ax,ay,az\n1,2,3\n4,5\n");
  expect_refused({"import", (imu_dir / "ragged.csv").string(), "--label", "normal"}, imu, 2,
                 "ragged.csv:3: row has 2 columns, expected 3");

  test::write_text(imu / "tml.yaml", "name: demo\nsensor:\n  kind: imu\n  rate: [1\n");
  expect_refused({"config"}, imu, 2, "tml.yaml:");
  expect_refused({"dataset"}, imu_dir.path(), 2, "no tml.yaml here");
}

TEST(Cli, UnwritableDatasetFolder) {
  // As root, permissions do not apply: run tml as 'nobody' through setpriv.
  test::TempDir dir;
  fs::path project = new_project(dir, "voice-control");
  fs::copy_file(test::tml_binary(), dir / "tml");
  fs::copy_file(test::shared_data("audio/yes_1000ms.wav"), dir / "yes.wav");
  fs::permissions(dir / "yes.wav", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(project / "dataset", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                           fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  std::vector<std::string> argv = {(dir / "tml").string(), "import", (dir / "yes.wav").string(), "--label", "yes"};
  if (::geteuid() == 0) argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  auto before = test::snapshot(dir.path());
  ProcessResult r = run_process(argv, {.cwd = project});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(test::lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("dataset"), std::string::npos) << r.err;
  EXPECT_EQ(test::snapshot(dir.path()), before);
}

}  // namespace
}  // namespace tml
