#include "deploy/fit_check.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace fs = std::filesystem;

namespace tml::deploy {
namespace {

std::string bytes_text(std::int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return (v < 0 ? "-" : "") + s + " B";
}

}  // namespace

BoardLimits board_limits(const std::string& board, const ImageUse& use) {
  BoardLimits l;
  l.board = board;
  if (board == "nano33ble") {
    l.flash = 983'040;
    l.ram = 262'144;
    l.app_flash = kNano33AppFlash + use.other_flash;
    l.app_ram = kNano33AppRam + kNano33HalRam + use.other_ram;
  } else if (board == "qemu-m4") {
    l.flash = 4 * 1024 * 1024;
    l.ram = 4 * 1024 * 1024;
    l.app_flash = use.other_flash;
    l.app_ram = use.other_ram;
  } else {
    l.flash = l.ram = INT64_MAX;  // host: a Linux process
  }
  return l;
}

std::int64_t stack_bound(const fs::path& build_dir) {
  // Lines of a .su file: "file:line:col:function<TAB>bytes<TAB>static|dynamic[,bounded]".
  std::int64_t model_frame = 0, main_frame = 0;
  std::vector<std::int64_t> runtime_frames, preprocess_frames;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(build_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() != ".su") continue;
    const std::string file = it->path().string();
    std::ifstream in(it->path());
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string where, bytes;
      if (!std::getline(fields, where, '\t') || !std::getline(fields, bytes, '\t')) continue;
      const std::int64_t n = std::atoll(bytes.c_str());
      if (file.find("model.cc") != std::string::npos) model_frame = std::max(model_frame, n);
      else if (file.find("/runtime/") != std::string::npos) runtime_frames.push_back(n);
      else if (file.find("/preprocess/") != std::string::npos) preprocess_frames.push_back(n);
      else if (file.find("app/model_runner.cc") != std::string::npos) main_frame = std::max(main_frame, n);
    }
  }
  // The runner calls either the model (run_op -> a kernel -> at most one helper) or the
  // preprocessing (an entry point -> at most one helper): the deeper of the two chains.
  const auto two_largest = [](std::vector<std::int64_t> v) {
    std::sort(v.rbegin(), v.rend());
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < v.size() && i < 2; ++i) sum += v[i];
    return sum;
  };
  return main_frame + std::max(model_frame + two_largest(runtime_frames), two_largest(preprocess_frames));
}

bool FitReport::fits() const {
  return std::all_of(items.begin(), items.end(), [](const FitItem& i) { return i.fits(); });
}

std::string FitReport::text() const {
  std::string out;
  for (const FitItem& i : items) {
    out += i.what + ": " + bytes_text(i.needed) + " needed (";
    for (std::size_t k = 0; k < i.parts.size(); ++k)
      out += (k ? ", " : "") + i.parts[k].first + " " + bytes_text(i.parts[k].second);
    out += ") of " + bytes_text(i.available);
    out += i.fits() ? ": fits, " + bytes_text(i.available - i.needed) + " free" : ": OVER by " + bytes_text(i.needed - i.available);
    out += "\n";
  }
  return out;
}

std::string FitReport::overflow() const {
  std::string over;
  for (const FitItem& item : items)
    if (!item.fits())
      over += (over.empty() ? "" : "; ") + item.what + " needs " + std::to_string(item.needed) + " B of " +
              std::to_string(item.available) + " B (over by " + std::to_string(item.needed - item.available) + " B)";
  return over;
}

FitReport check_fit(const BoardLimits& limits, const ImageUse& use, std::int64_t stack_bytes) {
  FitReport r;
  FitItem flash{"flash", use.model_flash + use.runtime_flash + use.preprocess_flash + limits.app_flash, limits.flash,
                {{"model", use.model_flash}, {"runtime", use.runtime_flash}, {"preprocessing", use.preprocess_flash},
                 {"app", limits.app_flash}}};
  FitItem ram{"RAM", use.model_ram + use.runtime_ram + use.preprocess_ram + limits.app_ram + stack_bytes, limits.ram,
              {{"arena and model data", use.model_ram}, {"runtime", use.runtime_ram}, {"preprocessing", use.preprocess_ram},
               {"app", limits.app_ram}, {"stack bound", stack_bytes}}};
  r.items = {flash, ram};
  return r;
}

}  // namespace tml::deploy
