// The train bridge's ONNX check: hand-made models (tests/train_bridge/train_fixtures.h) that are
// valid, corrupt, truncated or break the contract; the valid one is also run through onnx.checker.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "train_bridge/onnx_check.h"
#include "train_fixtures.h"

namespace tml::train {
namespace {

using tml::test::train::make_onnx;
using tml::test::train::OnnxSpec;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string failure(const std::string& model, const OnnxExpectations& expect = {}) {
  try {
    check_onnx(bytes_of(model), "model.onnx", expect);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::external_tool);
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "accepted";
  return "";
}

TEST(OnnxCheck, AcceptsAValidClassifier) {
  std::string model = make_onnx({.features = 6, .classes = 3});
  OnnxInfo info = check_onnx(bytes_of(model), "model.onnx", {.input_shape = {6}, .classes = 3});
  EXPECT_EQ(info.opset, 13);
  EXPECT_EQ(info.ir_version, 8);
  EXPECT_EQ(info.nodes, 2u);
  EXPECT_EQ(info.initializers, 2u);
  EXPECT_EQ(info.ops, (std::vector<std::string>{"Gemm", "Softmax"}));
  EXPECT_EQ(info.input_name, "input");
  EXPECT_EQ(info.input_shape, (std::vector<std::int64_t>{-1, 6}));
  EXPECT_EQ(info.output_name, "output");
  EXPECT_EQ(info.output_shape, (std::vector<std::int64_t>{-1, 3}));
  EXPECT_EQ(info.output_producer, "Softmax");
}

TEST(OnnxCheck, HandMadeModelPassesOnnxChecker) {
  if (run_process({"/usr/bin/python3", "-c", "import onnx"}).exit_code != 0) GTEST_SKIP() << "python3-onnx missing";
  test::TempDir dir;
  test::write_text(dir / "m.onnx", make_onnx({.features = 6, .classes = 3}));
  auto r = run_process({"/usr/bin/python3", "-c", "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]))",
                        (dir / "m.onnx").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(OnnxCheck, RejectsEmptyCorruptAndTruncatedFiles) {
  EXPECT_NE(failure("").find("the file is empty"), std::string::npos);
  EXPECT_NE(failure("this is not a model at all, just text\n").find("not a valid ONNX model"), std::string::npos);
  std::string garbage;
  std::mt19937 rng(3);
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>(rng() & 0xFF);
  EXPECT_NE(failure(garbage).find("not a valid ONNX model"), std::string::npos);
  std::string model = make_onnx({});
  for (std::size_t cut : {model.size() / 4, model.size() / 2, model.size() - 3}) {
    std::string msg = failure(model.substr(0, cut));
    EXPECT_NE(msg.find("not a valid ONNX model"), std::string::npos) << cut << ": " << msg;
  }
}

TEST(OnnxCheck, EnforcesTheContract) {
  EXPECT_NE(failure(make_onnx({.opset = 11})).find("opset 11; tml imports opset 13"), std::string::npos);
  EXPECT_NE(failure(make_onnx({.input_name = "x"})).find("name it \"input\""), std::string::npos);
  std::string msg = failure(make_onnx({.extra_op = "LSTM"}));
  EXPECT_NE(msg.find("cannot import: LSTM"), std::string::npos) << msg;
  msg = failure(make_onnx({.final_op = ""}));
  EXPECT_NE(msg.find("not a Softmax"), std::string::npos) << msg;
  msg = failure(make_onnx({.features = 6}), {.input_shape = {1, 2, 3}});
  EXPECT_NE(msg.find("does not match the features: expected [N, 1, 2, 3]"), std::string::npos) << msg;
  msg = failure(make_onnx({.classes = 3}), {.classes = 4});
  EXPECT_NE(msg.find("4 labels"), std::string::npos) << msg;
  // Plumbing the importer evaluates or drops is accepted.
  EXPECT_NO_THROW(check_onnx(bytes_of(make_onnx({.extra_op = "Identity"})), "model.onnx"));
}

}  // namespace
}  // namespace tml::train
