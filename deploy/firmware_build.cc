#include "deploy/firmware_build.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/process.h"

namespace fs = std::filesystem;

namespace tml::deploy {
namespace {

// The firmware sources are compiled anew for each model: tml knows where its sources are.
const fs::path kSourceDir = TML_SOURCE_DIR;

void run_tool(const std::vector<std::string>& argv, const std::string& what) {
  const ProcessResult r = run_process(argv);
  if (r.exit_code != 0)
    throw Error(ExitCode::external_tool, what + " failed (" + argv[0] + " exit " + std::to_string(r.exit_code) +
                                             "):\n" + last_lines(r.out + r.err, 15));
}

// A private folder for the runner's files: semihosting paths cannot contain blanks, a project's may.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tml-run-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw filesystem_error(pattern, "cannot create a temporary folder");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::uint8_t> read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}


}  // namespace

Board parse_model_board(const std::string& name) {
  if (name == "host") return Board::host;
  if (name == "qemu-m4") return Board::qemu_m4;
  throw Error(ExitCode::invalid_input, "--board " + name + ": models run on host or qemu-m4 (nano33ble: see `tml build`)");
}

const char* board_name(Board board) { return board == Board::host ? "host" : "qemu-m4"; }

FirmwareImage build_model_firmware(const fs::path& model_dir, Board board, const fs::path& build_dir) {
  const fs::path model = fs::absolute(model_dir);
  if (!fs::exists(model / "model.cc") || !fs::exists(model / "model.h"))
    throw Error(ExitCode::internal, model.string() + ": no generated model.h/model.cc");
  // Configure until a build system exists (CMake writes its cache even when configuring fails).
  if (!fs::exists(build_dir / "Makefile") && !fs::exists(build_dir / "build.ninja")) {
    std::vector<std::string> argv = {"cmake", "-S", (kSourceDir / "firmware_template").string(), "-B",
                                     build_dir.string(), "-DCMAKE_BUILD_TYPE=Release",
                                     "-DTML_BOARD=" + std::string(board_name(board)), "-DTML_MODEL_DIR=" + model.string()};
    if (board == Board::qemu_m4)
      argv.push_back("-DCMAKE_TOOLCHAIN_FILE=" + (kSourceDir / "cmake" / "arm-none-eabi.cmake").string());
    run_tool(argv, "configuring the " + std::string(board_name(board)) + " firmware");
  }
  run_tool({"cmake", "--build", build_dir.string()}, "building the " + std::string(board_name(board)) + " firmware");
  FirmwareImage image;
  image.board = board;
  image.runner = build_dir / (board == Board::qemu_m4 ? "model_runner.elf" : "model_runner");
  if (board == Board::qemu_m4) image.map = build_dir / "model_runner.map";
  if (fs::exists(model / "tml_features.h")) {
    image.app = build_dir / (board == Board::qemu_m4 ? "tml_app.elf" : "tml_app");
    if (board == Board::qemu_m4) image.app_map = build_dir / "tml_app.map";
  }
  return image;
}

RunnerResult run_model_firmware(const FirmwareImage& image, const std::vector<std::vector<std::uint8_t>>& inputs,
                                bool raw) {
  TempDir tmp;
  std::ofstream list(tmp.path() / "list.txt");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const fs::path in = tmp.path() / ("in" + std::to_string(i) + ".bin");
    std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(inputs[i].data()),
                                              static_cast<std::streamsize>(inputs[i].size()));
    list << in.string() << " " << (tmp.path() / ("out" + std::to_string(i) + ".bin")).string();
    if (raw) list << " " << (tmp.path() / ("features" + std::to_string(i) + ".bin")).string();
    list << "\n";
  }
  list.close();
  const std::string list_arg = "@" + (tmp.path() / "list.txt").string();
  std::vector<std::string> argv;
  if (image.board == Board::qemu_m4)
    argv = {"qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-display", "none", "-monitor", "none",
            "-serial", "null", "-icount", "shift=10", "-semihosting-config",
            "enable=on,target=native,arg=model_runner," + std::string(raw ? "arg=--raw," : "") +
                "arg=" + qemu_option_value(list_arg),
            "-kernel", image.runner.string()};
  else if (raw)
    argv = {image.runner.string(), "--raw", list_arg};
  else
    argv = {image.runner.string(), list_arg};
  const ProcessResult r = run_process(argv);
  if (r.exit_code != 0)
    throw Error(ExitCode::external_tool, std::string("the model runner on ") + board_name(image.board) +
                                             " failed (exit " + std::to_string(r.exit_code) + "):\n" +
                                             last_lines(r.out + r.err, 10));
  RunnerResult result;
  std::istringstream lines(r.out);
  std::string line;
  constexpr double kTicksPerInstruction = 25.6;  // timer0 at 25 MHz, -icount shift=10 (DESIGN.md §5)
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "op") {
      int index = 0;
      OpCost cost;
      double ticks = 0;
      if (words >> index >> cost.name >> ticks) {
        cost.instructions = ticks / kTicksPerInstruction;
        result.op_instructions.push_back(cost);
      }
    } else if (kind == "features") {
      double ticks = 0;
      if (words >> ticks) result.feature_instructions.push_back(ticks / kTicksPerInstruction);
    } else if (kind == "inference") {
      double ticks = 0;
      if (words >> ticks) result.instructions.push_back(ticks / kTicksPerInstruction);
    }
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    result.outputs.push_back(read_bytes(tmp.path() / ("out" + std::to_string(i) + ".bin")));
    if (raw) result.features.push_back(read_bytes(tmp.path() / ("features" + std::to_string(i) + ".bin")));
  }
  return result;
}

ImageUse read_link_map(const fs::path& map_file) {
  std::ifstream in(map_file);
  if (!in) throw filesystem_error(map_file.string(), "cannot read the link map");
  ImageUse use;
  std::string line, pending;  // pending: an input section name whose address/size/file is on the next line
  bool in_map = false;
  while (std::getline(in, line)) {
    if (!in_map) {
      in_map = line.rfind("Linker script and memory map", 0) == 0;
      continue;
    }
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (line.size() > 1 && line[0] == ' ' && line[1] == '.' && w.size() == 1) {
      pending = w[0];
      continue;
    }
    std::string section, size, file;
    if (line.size() > 1 && line[0] == ' ' && line[1] == '.' && w.size() == 4) {
      section = w[0], size = w[2], file = w[3];
    } else if (!pending.empty() && w.size() == 3 && w[0].rfind("0x", 0) == 0) {
      section = pending, size = w[1], file = w[2];
    } else if (line.size() > 1 && line[0] == ' ' && w.size() == 4 && w[0] == "COMMON") {
      section = ".bss", size = w[2], file = w[3];
    }
    pending.clear();
    if (section.empty() || size.rfind("0x", 0) != 0) continue;
    const std::int64_t bytes = std::strtoll(size.c_str(), nullptr, 16);
    // Loaded sections only: .ARM.attributes and debug sections take no flash.
    const bool is_flash = section.rfind(".text", 0) == 0 || section.rfind(".rodata", 0) == 0 ||
                          section.rfind(".data", 0) == 0 || section.rfind(".ARM.exidx", 0) == 0 ||
                          section.rfind(".ARM.extab", 0) == 0 || section.rfind(".isr_vector", 0) == 0 ||
                          section == ".init" || section == ".fini" || section.rfind(".init_array", 0) == 0 ||
                          section.rfind(".fini_array", 0) == 0;
    const bool is_ram = section.rfind(".data", 0) == 0 || section.rfind(".bss", 0) == 0;
    const bool model = file.find("model.cc.o") != std::string::npos;
    for (const char* kind : {".text", ".rodata", ".data", ".bss"})
      if (section.rfind(kind, 0) == 0) use.sections[kind] += bytes;
    const bool runtime = file.find("/runtime/") != std::string::npos;
    const bool preprocess = file.find("/preprocess/") != std::string::npos;
    if (is_flash)
      (model ? use.model_flash : runtime ? use.runtime_flash : preprocess ? use.preprocess_flash : use.other_flash) += bytes;
    if (is_ram) (model ? use.model_ram : runtime ? use.runtime_ram : preprocess ? use.preprocess_ram : use.other_ram) += bytes;
  }
  return use;
}

}  // namespace tml::deploy
