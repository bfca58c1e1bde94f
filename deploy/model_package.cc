#include "deploy/model_package.h"

#include <cstdlib>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace fs = std::filesystem;

namespace tml::deploy {
namespace {

void write_if_changed(const fs::path& file, const std::string& text) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      if (read_file_text(file) == text) return;
    } catch (const Error&) {
      // unreadable: rewrite it
    }
  }
  write_file_atomic(file, text);
}

}  // namespace

ModelPackage package_model(const CompiledModel& model, const CodegenOptions& options, Board board,
                           const fs::path& out_dir) {
  const GeneratedModel code = generate_model(model, options);
  ModelPackage p;
  p.model_dir = out_dir / "model";
  std::error_code ec;
  fs::create_directories(p.model_dir, ec);
  if (ec) throw filesystem_error(p.model_dir.string(), "cannot create the folder: " + ec.message());
  write_if_changed(p.model_dir / "model.h", code.header);
  write_if_changed(p.model_dir / "model.cc", code.source);
  p.image = build_model_firmware(p.model_dir, board, out_dir / (std::string("build-") + board_name(board)));
  if (board == Board::qemu_m4) p.use = read_link_map(p.image.map);
  return p;
}

fs::path model_cache_dir(const std::string& key) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path base = xdg && *xdg ? fs::path(xdg) : home && *home ? fs::path(home) / ".cache" : fs::temp_directory_path();
  return base / "tml" / "models" / key;
}

}  // namespace tml::deploy
