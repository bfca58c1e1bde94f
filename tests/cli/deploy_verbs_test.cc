// tml inspect / run / deploy on a real model, as a user runs them: --json documents, the qemu-m4
// run equal to the host run, the deploy folder, and bad input refused in one line with nothing written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/npy.h"
#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::run_tml;

const std::string kKws = test::shared_data("models/mlperf-tiny/kws_ref_model.tflite").string();

json run_json(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> full = {"--json"};
  full.insert(full.end(), args.begin(), args.end());
  const ProcessResult r = run_tml(full, cwd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

// Three int8 inputs of the KWS model (49x10x1), deterministic.
fs::path write_inputs(const test::TempDir& dir) {
  std::vector<std::uint8_t> data(3 * 490);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
  const fs::path file = dir / "inputs.npy";
  write_file_atomic(file, npy_encode(NpyType::int8, {3, 49, 10, 1}, data));
  return file;
}

TEST(DeployVerbs, InspectShowsOpsAndThePlan) {
  test::TempDir dir;
  const json doc = run_json({"inspect", kKws, "--tensors"}, dir.path());
  EXPECT_EQ(doc["ops"], 13);
  EXPECT_EQ(doc["layers"].size(), 13u);
  EXPECT_EQ(doc["layers"][0]["op"], "CONV_2D");
  EXPECT_LE(doc["arena"]["bytes"].get<double>(), doc["arena"]["lower_bound"].get<double>() * 1.05);
  EXPECT_GT(doc["tensors"].size(), 13u);
  const ProcessResult human = run_tml({"inspect", kKws}, dir.path());
  EXPECT_NE(human.out.find("DEPTHWISE_CONV_2D"), std::string::npos);
  EXPECT_NE(human.out.find("lower bound"), std::string::npos);
}

TEST(DeployVerbs, RunOnQemuEqualsRunOnHost) {
  test::TempDir dir;
  const fs::path inputs = write_inputs(dir);
  const json host = run_json({"run", kKws, "--input", inputs.string(), "--out", (dir / "host.npy").string()}, dir.path());
  const json qemu = run_json({"run", kKws, "--input", inputs.string(), "--board", "qemu-m4", "--out",
                              (dir / "qemu.npy").string()}, dir.path());
  ASSERT_EQ(host["inferences"], 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(host["results"][i]["raw"], qemu["results"][i]["raw"]);
    EXPECT_GT(qemu["results"][i]["instructions"].get<long long>(), 2'656'768);  // more than one per MAC
  }
  EXPECT_EQ(read_file_bytes(dir / "host.npy"), read_file_bytes(dir / "qemu.npy"));
  const NpyArray out = npy_read(dir / "host.npy");
  EXPECT_EQ(out.shape, (std::vector<std::size_t>{3, 1, 12}));
}

TEST(DeployVerbs, DeployBuildsTheImageAndReportsItsCost) {
  test::TempDir dir;
  const json doc = run_json({"deploy", kKws, "--out", "kws"}, dir.path());
  EXPECT_TRUE(fs::exists(dir / "kws/model/model.cc"));
  EXPECT_TRUE(fs::exists(dir / "kws/build-qemu-m4/model_runner.elf"));
  EXPECT_TRUE(fs::exists(dir / "kws/report.json"));
  EXPECT_GT(doc["instructions_per_inference"].get<long long>(), 2'656'768);
  EXPECT_GT(doc["flash_bytes"]["model"].get<long long>(), 28'000);  // the weights are in flash
  EXPECT_GE(doc["ram_bytes"]["model"].get<long long>(), doc["arena"]["bytes"].get<long long>());
  EXPECT_EQ(doc["op_instructions"].size(), 13u);
}

TEST(DeployVerbs, DeployForTheNanoChecksTheFitAndExportsASketch) {
  test::TempDir dir;
  const json doc = run_json({"deploy", kKws, "--board", "nano33ble", "--out", "kws"}, dir.path());
  EXPECT_TRUE(doc["fits"].get<bool>());
  EXPECT_NE(doc["fit_report"].get<std::string>().find("of 983,040 B: fits"), std::string::npos) << doc["fit_report"];
  EXPECT_TRUE(fs::exists(dir / "kws/nano33ble/tml_model/tml_model.ino"));
  EXPECT_TRUE(fs::exists(dir / "kws/nano33ble/tml_model/src/model.cpp"));
  EXPECT_GT(doc["sections_bytes"][".rodata"].get<long long>(), 28'000);  // the weights
}

// One line on stderr, exit code 2, nothing written.
void expect_refused(const std::vector<std::string>& args, const fs::path& cwd, const std::string& needle) {
  const auto before = test::snapshot(cwd);
  const ProcessResult r = run_tml(args, cwd);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(test::lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(test::snapshot(cwd), before);
}

TEST(DeployVerbs, BadInputIsRefusedInOneLine) {
  test::TempDir dir;
  const auto bytes = read_file_bytes(kKws);
  write_file_atomic(dir / "cut.tflite", std::span<const std::uint8_t>(bytes.data(), bytes.size() / 2));
  write_file_atomic(dir / "model.onnx", std::string("x"));
  std::vector<std::uint8_t> wrong(7, 0);
  write_file_atomic(dir / "wrong.npy", npy_encode(NpyType::int8, {7}, wrong));
  expect_refused({"inspect", "cut.tflite"}, dir.path(), "cut.tflite");
  expect_refused({"deploy", "model.onnx"}, dir.path(), "tml build");
  expect_refused({"run", kKws, "--input", "wrong.npy", "--out", "out.npy"}, dir.path(), "multiple of the model input");
}

}  // namespace
}  // namespace tml
