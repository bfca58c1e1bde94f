#include "built_firmware.h"

#include <regex>
#include <set>

#include "board_output.h"
#include "core/atomic_file.h"
#include "core/dataset_store.h"
#include "core/errors.h"
#include "core/sha256.h"
#include "deploy/firmware_build.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

double header_constant(const std::string& text, const std::string& name, const fs::path& file) {
  const std::regex re("constexpr [A-Za-z:_0-9]+ " + name + " = (-?[0-9.eE+-]+)f?;");
  std::smatch m;
  if (!std::regex_search(text, m, re)) throw Error(ExitCode::internal, file.string() + ": no " + name + " (rebuild with tml build --force)");
  return std::stod(m[1].str());
}

}  // namespace

BuiltFirmware built_firmware(const Project& project, const std::string& board) {
  if (board != "qemu-m4" && board != "host")
    throw invalid_input("--board " + board, "the built app runs on the emulated boards qemu-m4 and host");
  const fs::path build = project.root / "build";
  BuiltFirmware f;
  f.board = board;
  const fs::path report_file = build / "report.json";
  if (!fs::exists(report_file)) throw invalid_input(report_file.string(), "no build yet; run `tml build` first");
  f.report = json::parse(read_file_text(report_file), nullptr, false);
  if (f.report.is_discarded() || !f.report.contains("firmware") || !f.report.contains("quantize"))
    throw invalid_input(report_file.string(), "the last build did not reach the firmware stage; run `tml build`");
  f.model_dir = build / "deploy" / "model";
  f.config_hash = f.report["quantize"].value("config_hash", "");
  // tml.yaml or the model changed after the build: the board would run something else.
  const fs::path onnx = build / "model" / "model.onnx";
  if (!fs::exists(onnx) || sha256_hex(project.config_hash() + sha256_file(onnx)).substr(0, 16) != f.config_hash)
    throw invalid_input(project.file().string(), "tml.yaml or the model changed since the last build; run `tml build`");
  const fs::path dir = build / "deploy" / ("build-" + board);
  f.app = dir / (board == "qemu-m4" ? "tml_app.elf" : "tml_app");
  if (board == "qemu-m4") f.app_map = dir / "tml_app.map";
  if (board == "host") deploy::build_model_firmware(f.model_dir, deploy::Board::host, dir);  // incremental
  if (!fs::exists(f.app)) throw invalid_input(f.app.string(), "no board app built; run `tml build`");
  const std::string header = read_file_text(f.model_dir / "model.h");
  f.output_bytes = static_cast<std::size_t>(header_constant(header, "kOutputElements", f.model_dir / "model.h"));
  f.output_scale = static_cast<float>(header_constant(header, "kOutputScale", f.model_dir / "model.h"));
  f.output_zero_point = static_cast<int>(header_constant(header, "kOutputZeroPoint", f.model_dir / "model.h"));
  f.window_bytes = static_cast<std::uint32_t>(sensor_window_bytes(project));
  return f;
}

std::uint8_t project_sensor_index(const proto::Hello& hello, const Project& project, const std::string& where) {
  const proto::SensorDescriptor want = project_sensor(project);
  std::string seen;
  for (std::uint8_t i = 0; i < hello.sensor_count; ++i) {
    const proto::SensorDescriptor& d = hello.sensors[i];
    if (d.kind == want.kind && d.format == want.format && d.channels == want.channels &&
        d.rate_millihertz == want.rate_millihertz && d.width == want.width && d.height == want.height)
      return i;
    seen += (seen.empty() ? "" : "; ") + std::to_string(i) + ": kind " + std::to_string(static_cast<int>(d.kind)) + ", " +
            std::to_string(d.channels) + " channel(s) at " + std::to_string(d.rate_millihertz / 1000.0) + " Hz";
  }
  throw Error(ExitCode::device, where + ": the board has no sensor like " + project.name() + "'s (sensor in tml.yaml: " +
                                    std::to_string(want.channels) + " channel(s) at " + std::to_string(want.rate_millihertz / 1000.0) +
                                    " Hz); its sensors: " + (seen.empty() ? "none" : seen));
}

void check_config_hash(const proto::Hello& hello, const std::string& expected, const std::string& where,
                       const std::string& fix) {
  const std::string hex = hello_json(hello)["config_hash"].get<std::string>();
  if (hex != expected)
    throw Error(ExitCode::device, where + ": the board runs firmware of config " + hex + ", this build is " + expected + "; " + fix);
}

LabelledFiles test_split(const Project& project) {
  DatasetStore store(project.dataset_dir());
  LabelledFiles out;
  const auto labels = project.labels();
  std::set<std::string> test_groups, trained_groups;
  for (const auto& e : store.entries())
    if (e.contains("group")) (e.value("split", "") == "test" ? test_groups : trained_groups).insert(e["group"].get<std::string>());
  out.groups = test_groups.size();
  for (const auto& g : test_groups) out.groups_trained += trained_groups.count(g);
  for (const auto& e : store.entries()) {
    if (e.value("split", "") != "test" || !project.has_label(e["label"])) continue;
    out.files.push_back(fs::absolute(store.dir() / e["path"].get<std::string>()));
    out.labels.push_back(static_cast<int>(std::find(labels.begin(), labels.end(), e["label"].get<std::string>()) - labels.begin()));
  }
  return out;
}

FlashedBoard flash_app(const Project& project, const BuiltFirmware& firmware, const ReplaySensor& replay,
                       bool real_time) {
  FlashedBoard b;
  b.state = start_emulated_board(project, firmware.board, replay, firmware.app, real_time);
  b.link = connect_socket(b.state.socket, 2000);
  b.client = std::make_unique<BoardClient>(*b.link);
  b.hello = b.client->hello();
  check_config_hash(b.hello, firmware.config_hash, firmware.board + " board");
  return b;
}

FlashedBoard connect_app(const Project& project, const BuiltFirmware& firmware) {
  const auto state = running_board(project);
  if (!state) throw Error(ExitCode::device, "no emulated board is running for " + project.name() + "; start it with `tml flash`");
  FlashedBoard b;
  b.state = *state;
  b.link = connect_socket(b.state.socket, 2000);
  b.client = std::make_unique<BoardClient>(*b.link);
  b.hello = b.client->hello();
  check_config_hash(b.hello, firmware.config_hash, b.state.board + " board (" + b.state.socket + ")");
  return b;
}

}  // namespace tml::cli
