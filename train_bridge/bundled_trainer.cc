#include "train_bridge/bundled_trainer.h"

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/sha256.h"

namespace tml::train {

namespace fs = std::filesystem;

fs::path install_bundled_trainer(const fs::path& root) {
  std::string all;
  for (const auto& f : bundled_trainer_files()) all += f.name + '\0' + f.text + '\0';
  const fs::path base = root / ".tml" / "trainer";
  const fs::path dir = base / sha256_hex(all).substr(0, 16);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;
  fs::create_directories(base, ec);
  if (ec) {
    throw filesystem_error(base.string(), "cannot create the folder (" + ec.message() + ")");
  }
  const fs::path temp = base / (".tmp-" + dir.filename().string() + "-" + std::to_string(::getpid()));
  fs::remove_all(temp, ec);
  fs::create_directories(temp, ec);
  if (ec) throw filesystem_error(temp.string(), "cannot create the folder (" + ec.message() + ")");
  for (const auto& f : bundled_trainer_files()) write_file_atomic(temp / f.name, f.text);
  fs::rename(temp, dir, ec);
  if (ec) {
    fs::remove_all(temp, ec);
    if (!fs::is_directory(dir)) throw filesystem_error(dir.string(), "cannot install the bundled trainer");
  }
  return dir;
}

}  // namespace tml::train
