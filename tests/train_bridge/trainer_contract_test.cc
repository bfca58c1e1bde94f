// The trainer contract with FAKE trainers (shell scripts written by the tests): a good one, and
// ones that print garbage, crash, get killed, exit non-zero, write no/empty/corrupt model.onnx or
// bad metrics, report an error, or cannot start. Every failure must be one line with exit code 4
// (ExitCode::external_tool) and leave build/model/ as the last good run left it.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "core/errors.h"
#include "core/project_file.h"
#include "train_bridge/job.h"
#include "train_bridge/trainer.h"
#include "train_fixtures.h"

namespace tml::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::TempDir;
using test::write_text;
namespace tt = tml::test::train;

constexpr int kFeatures = 6;
const std::vector<std::string> kLabels = {"a", "b", "c"};

// An IMU project whose trainer is `sh trainer.sh {job}`, with synthetic features and a valid
// hand-made model the good fake trainer copies.
class FakeTrainer : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_ / "tml.yaml",
               "name: fake\nsensor:\n  kind: imu\nlabels: [a, b, c]\ntrain:\n  trainer: command\n  command: [/bin/sh, " +
                   (dir_ / "trainer.sh").string() + ", \"{job}\"]\n  threads: 1\n");
    features_ = tt::write_features(dir_.path(), "imu", {kFeatures}, kLabels, {12, 3, 3});
    write_text(dir_ / "good.onnx", tt::make_onnx({.features = kFeatures, .classes = 3}));
  }

  void script(const std::string& body) {
    tt::write_script(dir_ / "trainer.sh", "#!/bin/sh\nd=$(dirname \"$1\")\nGOOD=" + (dir_ / "good.onnx").string() +
                                              "\n" + body);
  }

  static std::string good_body() {
    return "echo '{\"event\":\"start\",\"epochs\":2,\"phases\":[{\"name\":\"classifier\",\"epochs\":2}]}'\n"
           "echo 'a warning on stderr' >&2\n"
           "echo '{\"event\":\"epoch\",\"epoch\":1,\"epochs\":2,\"loss\":1.0,\"accuracy\":0.5,\"val_loss\":1.1,\"val_accuracy\":0.4}'\n"
           "echo '{\"event\":\"epoch\",\"epoch\":2,\"epochs\":2,\"loss\":0.5,\"accuracy\":0.8,\"val_loss\":0.6,\"val_accuracy\":0.7}'\n"
           "cp \"$GOOD\" \"$d/model.onnx\"\n"
           "echo '{\"epochs_run\":2,\"test\":{\"accuracy\":0.9,\"count\":3}}' > \"$d/metrics.json\"\n"
           "echo '{\"event\":\"done\",\"epochs_run\":2}'\n";
  }

  TrainResult train(TrainOptions options = {}) {
    Project project = load_project(dir_.path());
    return train_model(project, features_, options);
  }

  // A good run first, then BODY must fail with a message containing NEEDLE and change nothing.
  std::string expect_failure(const std::string& body, const std::string& needle) {
    script(good_body());
    train();
    auto before = tt::model_outputs(dir_.path());
    EXPECT_EQ(before.count("model.onnx"), 1u);
    script(body);
    std::string message;
    try {
      train();
      ADD_FAILURE() << "the run succeeded";
    } catch (const Error& e) {
      message = e.what();
      EXPECT_EQ(e.code(), ExitCode::external_tool) << message;
    }
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(tt::model_outputs(dir_.path()), before) << "build/model/ changed";
    EXPECT_FALSE(tt::has_staging_leftovers(dir_.path()));
    return message;
  }

  TempDir dir_;
  json features_;
};

TEST_F(FakeTrainer, GoodTrainerPromotesOutputsAndReportsProgress) {
  script(good_body());
  std::vector<EpochProgress> progress;
  std::vector<std::string> events;
  TrainOptions o;
  o.on_progress = [&](const EpochProgress& p) { progress.push_back(p); };
  o.on_event = [&](const json& e) { events.push_back(e["event"]); };
  TrainResult r = train(o);
  EXPECT_EQ(events, (std::vector<std::string>{"start", "epoch", "epoch", "done"}));
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].phase, "classifier");
  EXPECT_EQ(progress[0].epoch, 1);
  EXPECT_EQ(progress[0].epochs, 2);
  EXPECT_DOUBLE_EQ(*progress[1].accuracy, 0.8);
  EXPECT_DOUBLE_EQ(*progress[1].val_accuracy, 0.7);
  EXPECT_GE(progress[0].eta_seconds, 0.0);
  EXPECT_EQ(progress[1].eta_seconds, 0.0);
  const fs::path out = dir_ / "build/model";
  EXPECT_EQ(r.model, out / "model.onnx");
  EXPECT_EQ(test::read_text(out / "model.onnx"), test::read_text(dir_ / "good.onnx"));
  EXPECT_EQ(r.metrics_doc["test"]["accuracy"], 0.9);
  EXPECT_EQ(r.onnx.ops, (std::vector<std::string>{"Gemm", "Softmax"}));
  // job.json describes the model where it now is.
  json job = json::parse(test::read_text(out / "job.json"));
  EXPECT_EQ(job["format"], "tml-train-job");
  EXPECT_EQ(job["outputs"]["model"], (out / "model.onnx").string());
  EXPECT_EQ(job["input"]["mapping"], "identity");
  EXPECT_EQ(job["input"]["shape"], json({kFeatures}));
  EXPECT_EQ(job["train"]["threads"], 1);
  EXPECT_EQ(job["labels"], json(kLabels));
  EXPECT_TRUE(fs::path(job["data"]["train"]["x"].get<std::string>()).is_absolute());
  std::string log = test::read_text(out / "train.log");
  EXPECT_NE(log.find("err| a warning on stderr"), std::string::npos) << log;
  EXPECT_NE(log.find("out| {\"event\":\"done\""), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out / "failed-train.log"));
  EXPECT_FALSE(tt::has_staging_leftovers(dir_.path()));
}

TEST_F(FakeTrainer, TheTrainerGetsThreadsAndPassivePolicy) {
  script("echo \"$OMP_NUM_THREADS $OMP_WAIT_POLICY $TML_THREADS\" >&2\n"
         "[ \"$TML_JOB\" = \"$1\" ] || exit 9\n" + good_body());
  TrainResult r = train({.overrides = {.threads = 3}});
  EXPECT_NE(test::read_text(r.log).find("err| 3 PASSIVE 3"), std::string::npos);
}

TEST_F(FakeTrainer, GarbageOnStdout) {
  std::string m = expect_failure("echo 'hello, I am not JSON'\nprintf '\\001\\002\\003\\n'\necho '[1,2]'\nexit 0\n",
                                 "not tml JSON lines");
  EXPECT_NE(m.find("3 unreadable line(s), first: 'hello, I am not JSON'"), std::string::npos) << m;
  EXPECT_TRUE(fs::exists(dir_ / "build/model/failed-train.log"));
}

TEST_F(FakeTrainer, GarbageWithAModelStillFails) {
  expect_failure("echo 'garbage'\ncp \"$GOOD\" \"$d/model.onnx\"\necho '{}' > \"$d/metrics.json\"\n", "never reported \"done\"");
}

TEST_F(FakeTrainer, NonZeroExitQuotesStderr) {
  std::string m = expect_failure("echo '{\"event\":\"start\"}'\necho 'Traceback: boom' >&2\nexit 3\n",
                                 "the trainer exited with code 3: Traceback: boom");
  EXPECT_NE(m.find("failed-train.log"), std::string::npos);
}

TEST_F(FakeTrainer, KilledTrainer) {
  expect_failure("echo '{\"event\":\"start\"}'\ncp \"$GOOD\" \"$d/model.onnx\"\nkill -9 $$\n", "killed by SIGKILL");
}

TEST_F(FakeTrainer, CrashedTrainer) {
  expect_failure("echo '{\"event\":\"start\"}'\nkill -SEGV $$\n", "killed by SIGSEGV");
}

TEST_F(FakeTrainer, MissingModel) {
  expect_failure("echo '{}' > \"$d/metrics.json\"\necho '{\"event\":\"done\"}'\n", "model.onnx: the trainer did not write it");
}

TEST_F(FakeTrainer, EmptyModel) {
  expect_failure(": > \"$d/model.onnx\"\necho '{}' > \"$d/metrics.json\"\necho '{\"event\":\"done\"}'\n", "the file is empty");
}

TEST_F(FakeTrainer, CorruptModel) {
  expect_failure("printf 'PK\\003\\004 this is a zip, not ONNX' > \"$d/model.onnx\"\necho '{}' > \"$d/metrics.json\"\n"
                 "echo '{\"event\":\"done\"}'\n",
                 "not a valid ONNX model");
}

TEST_F(FakeTrainer, TruncatedModel) {
  expect_failure("head -c 150 \"$GOOD\" > \"$d/model.onnx\"\necho '{}' > \"$d/metrics.json\"\necho '{\"event\":\"done\"}'\n",
                 "not a valid ONNX model");
}

TEST_F(FakeTrainer, ModelOfTheWrongShape) {
  write_text(dir_ / "wrong.onnx", tt::make_onnx({.features = kFeatures + 1, .classes = 3}));
  expect_failure("cp " + (dir_ / "wrong.onnx").string() + " \"$d/model.onnx\"\necho '{}' > \"$d/metrics.json\"\n"
                 "echo '{\"event\":\"done\"}'\n",
                 "does not match the features");
}

TEST_F(FakeTrainer, BadMetrics) {
  expect_failure("cp \"$GOOD\" \"$d/model.onnx\"\necho 'accuracy: high' > \"$d/metrics.json\"\necho '{\"event\":\"done\"}'\n",
                 "metrics.json is not a JSON object");
  expect_failure("cp \"$GOOD\" \"$d/model.onnx\"\necho '{\"event\":\"done\"}'\n", "did not write metrics.json");
}

TEST_F(FakeTrainer, ErrorEventNamesTheFix) {
  expect_failure("echo '{\"event\":\"error\",\"message\":\"PyTorch is not installed for /usr/bin/python3\",\"fix\":\"apt-get install python3-torch\"}'\nexit 4\n",
                 "trainer: PyTorch is not installed for /usr/bin/python3; fix: apt-get install python3-torch");
}

TEST_F(FakeTrainer, ExitZeroWithoutDone) {
  expect_failure("echo '{\"event\":\"start\"}'\nexit 0\n", "without reporting {\"event\": \"done\"}");
}

TEST_F(FakeTrainer, MissingCommand) {
  script(good_body());
  train();
  auto before = tt::model_outputs(dir_.path());
  write_text(dir_ / "tml.yaml", "name: fake\nsensor:\n  kind: imu\nlabels: [a, b, c]\ntrain:\n  trainer: command\n"
                                "  command: [/nonexistent/bin/trainer, \"{job}\"]\n");
  try {
    train();
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::external_tool);
    EXPECT_NE(std::string(e.what()).find("train.command: /nonexistent/bin/trainer: cannot start"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tt::model_outputs(dir_.path()), before);
  EXPECT_FALSE(tt::has_staging_leftovers(dir_.path()));
}

TEST_F(FakeTrainer, MissingInterpreterOfTheBundledTrainer) {
  write_text(dir_ / "tml.yaml", "name: fake\nsensor:\n  kind: imu\nlabels: [a, b, c]\n");
  TrainOptions o;
  o.python = "/nonexistent/python3";
  try {
    train(o);
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::external_tool);
    std::string m = e.what();
    EXPECT_NE(m.find("/nonexistent/python3 not found"), std::string::npos) << m;
    EXPECT_NE(m.find("apt-get install python3 python3-numpy python3-torch"), std::string::npos) << m;
  }
}

TEST_F(FakeTrainer, StaleStagingFoldersAreRemoved) {
  fs::create_directories(dir_ / "build/model/.staging-999999");
  write_text(dir_ / "build/model/.staging-999999/model.onnx", "half");
  write_text(dir_ / "build/model/.tmp-job.json-999999", "half");
  script(good_body());
  train();
  EXPECT_FALSE(tt::has_staging_leftovers(dir_.path()));
}

TEST_F(FakeTrainer, PlaceholdersInTheCommand) {
  write_text(dir_ / "tml.yaml", "name: fake\nsensor:\n  kind: imu\nlabels: [a, b, c]\ntrain:\n  trainer: command\n"
                                "  command: [/bin/sh, " + (dir_ / "trainer.sh").string() + ", \"{job}\", \"t={threads}\", \"{trainer}\"]\n"
                                "  threads: 2\n");
  script("[ \"$2\" = t=2 ] || { echo \"bad threads $2\" >&2; exit 5; }\n"
         "[ -f \"$3\" ] || { echo \"no trainer $3\" >&2; exit 6; }\n" + good_body());
  EXPECT_NO_THROW(train());
  EXPECT_TRUE(fs::exists(dir_ / ".tml/trainer"));
}

TEST(TrainJob, InputMappingPerSensor) {
  EXPECT_EQ(input_mapping("audio", {49, 10}).shape, (std::vector<std::int64_t>{1, 49, 10}));
  EXPECT_EQ(input_mapping("audio", {49, 10}).mapping, "add_channel");
  EXPECT_EQ(input_mapping("camera", {96, 96, 1}).shape, (std::vector<std::int64_t>{1, 96, 96}));
  EXPECT_EQ(input_mapping("camera", {32, 24, 3}).shape, (std::vector<std::int64_t>{3, 32, 24}));
  EXPECT_EQ(input_mapping("camera", {32, 24, 3}).mapping, "hwc_to_chw");
  EXPECT_EQ(input_mapping("imu", {36}).shape, (std::vector<std::int64_t>{36}));
  EXPECT_THROW(input_mapping("audio", {490}), Error);
}

TEST(TrainJob, RejectsFeaturesOfAnotherProject) {
  TempDir dir;
  write_text(dir / "tml.yaml", "name: p\nsensor:\n  kind: imu\nlabels: [a, b]\n");
  Project project = load_project(dir.path());
  json features = tt::write_features(dir.path(), "imu", {4}, {"a", "c"}, {4, 2, 2});
  try {
    make_job(project, features, dir / "build/features", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("run `tml preprocess` again"), std::string::npos);
  }
}

// ---- through the tml binary ------------------------------------------------------------------

// An IMU project with a few imported CSV windows, its features computed, and a fake trainer.
class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_ / "tml.yaml", "name: cli\nsensor:\n  kind: imu\n  rate: 100\n  window_ms: 1000\nlabels: [a, b, c]\n"
                                  "train:\n  trainer: command\n  command: [/bin/sh, " + (dir_ / "trainer.sh").string() +
                                  ", \"{job}\"]\n  threads: 1\n");
    std::mt19937 rng(5);
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (int i = 0; i < 9; ++i) {
      std::string csv;
      for (int r = 0; r < 100; ++r) {
        csv += std::to_string(n(rng) * (1 + i % 3)) + "," + std::to_string(n(rng)) + "," + std::to_string(n(rng)) + "\n";
      }
      write_text(dir_ / ("in/" + kLabels[static_cast<std::size_t>(i % 3)] + "/w" + std::to_string(i) + ".csv"), csv);
    }
    auto r = test::run_tml({"import", (dir_ / "in/a").string(), (dir_ / "in/b").string(), (dir_ / "in/c").string()},
                           dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::run_tml({"preprocess"}, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json features = json::parse(test::read_text(dir_ / "build/features/features.json"));
    std::int64_t f = features["shape"][0].get<std::int64_t>();
    write_text(dir_ / "good.onnx", tt::make_onnx({.features = f, .classes = 3}));
  }

  void script(const std::string& body) {
    tt::write_script(dir_ / "trainer.sh", "#!/bin/sh\nd=$(dirname \"$1\")\nGOOD=" + (dir_ / "good.onnx").string() +
                                              "\n" + body);
  }

  TempDir dir_;
};

const char* kCliGood =
    "echo '{\"event\":\"start\",\"epochs\":1}'\n"
    "echo '{\"event\":\"epoch\",\"epoch\":1,\"epochs\":1,\"loss\":0.5,\"accuracy\":0.8}'\n"
    "cp \"$GOOD\" \"$d/model.onnx\"\n"
    "echo '{\"parameters\":21,\"epochs_run\":1,\"best_epoch\":1,\"test\":{\"accuracy\":0.75,\"count\":4},"
    "\"validation\":{\"accuracy\":0.5},\"train\":{\"accuracy\":1.0}}' > \"$d/metrics.json\"\n"
    "echo '{\"event\":\"done\"}'\n";

TEST_F(TrainCli, SummaryAndJson) {
  script(kCliGood);
  auto r = test::run_tml({"train"}, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Accuracy: test 75.0% of 4, validation 50.0%, train 100.0%."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("build/model/model.onnx (ONNX opset 13"), std::string::npos) << r.out;
  r = test::run_tml({"--json", "train", "--epochs", "3"}, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["ok"], true);
  EXPECT_EQ(doc["model"], "build/model/model.onnx");
  EXPECT_EQ(doc["accuracy"]["test"], 0.75);
  EXPECT_EQ(doc["onnx"]["input"], "input");
  EXPECT_EQ(doc["parameters"], 21);
  json job = json::parse(test::read_text(dir_ / "build/model/job.json"));
  EXPECT_EQ(job["train"]["epochs"], 3);
}

TEST_F(TrainCli, GarbageTrainerGivesOneLineAndExitCode4) {
  script(kCliGood);
  ASSERT_EQ(test::run_tml({"train"}, dir_.path()).exit_code, 0);
  auto before = tt::model_outputs(dir_.path());
  script("echo 'Epoch 1/3 ....... loss=0.3'\necho '<<<garbage>>>'\n");
  auto r = test::run_tml({"train"}, dir_.path());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  auto lines = test::lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("not tml JSON lines"), std::string::npos) << lines[0];
  EXPECT_EQ(tt::model_outputs(dir_.path()), before);
  r = test::run_tml({"--json", "train"}, dir_.path());
  EXPECT_EQ(r.exit_code, 4);
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["error"]["code"], 4);
}

TEST_F(TrainCli, MissingInterpreterGivesOneLineAndExitCode4) {
  write_text(dir_ / "tml.yaml", "name: cli\nsensor:\n  kind: imu\n  rate: 100\n  window_ms: 1000\nlabels: [a, b, c]\n");
  ProcessOptions o{.cwd = dir_.path(), .env = {{"TML_PYTHON", "/nonexistent/python3"}}};
  auto r = run_process({test::tml_binary().string(), "train"}, o);
  EXPECT_EQ(r.exit_code, 4);
  auto lines = test::lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("apt-get install python3 python3-numpy python3-torch"), std::string::npos) << lines[0];
}

// Ctrl-C: tml forwards SIGINT to the trainer's group, the trainer stops, tml exits 130, the
// previous model stays and no trainer process is left. STUBBORN: the trainer ignores SIGINT and
// SIGTERM, so tml has to escalate to SIGKILL.
void interrupt_run(TrainCli& t, const TempDir& dir, bool stubborn) {
  const fs::path pid_file = dir / "trainer.pid";
  std::string traps = stubborn ? "trap '' INT TERM\n"
                               : "trap 'echo \"{\\\"event\\\":\\\"interrupted\\\"}\"; exit 130' INT\n";
  tt::write_script(dir / "trainer.sh", "#!/bin/sh\n" + traps + "echo $$ > " + pid_file.string() +
                                           "\necho '{\"event\":\"start\",\"epochs\":100}'\n"
                                           "i=0\nwhile [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n");
  ProcessOptions o{.cwd = dir.path(), .env = {{"TML_TRAIN_INTERRUPT_GRACE_MS", "300"}}};
  Process tml({test::tml_binary().string(), "train"}, o);
  for (int i = 0; i < 200 && (!fs::exists(pid_file) || test::read_text(pid_file).empty()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(pid_file));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pid_t trainer = std::stoi(test::read_text(pid_file));
  auto start = std::chrono::steady_clock::now();
  tml.send_signal(SIGINT);
  ProcessResult r = tml.wait();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  auto lines = test::lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("interrupted"), std::string::npos);
  EXPECT_NE(lines[0].find("previous model"), std::string::npos);
  EXPECT_FALSE(tt::process_alive(trainer)) << "the trainer is still running";
  EXPECT_LT(seconds, 20.0);
  (void)t;
}

TEST_F(TrainCli, CtrlCStopsTheTrainerAndKeepsThePreviousModel) {
  script(kCliGood);
  ASSERT_EQ(test::run_tml({"train"}, dir_.path()).exit_code, 0);
  auto before = tt::model_outputs(dir_.path());
  interrupt_run(*this, dir_, false);
  EXPECT_EQ(tt::model_outputs(dir_.path()), before);
  EXPECT_FALSE(tt::has_staging_leftovers(dir_.path()));
  EXPECT_TRUE(fs::exists(dir_ / "build/model/failed-train.log"));
  EXPECT_NE(test::read_text(dir_ / "build/model/failed-train.log").find("\"interrupted\""), std::string::npos);
}

TEST_F(TrainCli, CtrlCEscalatesForAStubbornTrainer) {
  script(kCliGood);
  ASSERT_EQ(test::run_tml({"train"}, dir_.path()).exit_code, 0);
  auto before = tt::model_outputs(dir_.path());
  interrupt_run(*this, dir_, true);
  EXPECT_EQ(tt::model_outputs(dir_.path()), before);
  EXPECT_FALSE(tt::has_staging_leftovers(dir_.path()));
}

TEST_F(TrainCli, KilledTrainerGivesOneLineAndExitCode4) {
  script(kCliGood);
  ASSERT_EQ(test::run_tml({"train"}, dir_.path()).exit_code, 0);
  auto before = tt::model_outputs(dir_.path());
  script("echo '{\"event\":\"start\",\"epochs\":3}'\ncp \"$GOOD\" \"$d/model.onnx\"\nkill -KILL $$\n");
  auto r = test::run_tml({"train"}, dir_.path());
  EXPECT_EQ(r.exit_code, 4);
  auto lines = test::lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("killed by SIGKILL"), std::string::npos);
  EXPECT_EQ(tt::model_outputs(dir_.path()), before);
}

}  // namespace
}  // namespace tml::train
