#pragma once
// One step from a compiled model to a runnable image: generate model.h/.cc into OUT/model/ (files
// rewritten only when their text changes, so rebuilds are incremental), build model_runner for
// the board into OUT/build-<board>/, and read its memory use. Host only.
#include <filesystem>
#include <optional>

#include "deploy/codegen.h"
#include "deploy/compiled_model.h"
#include "deploy/firmware_build.h"

namespace tml::deploy {

struct ModelPackage {
  std::filesystem::path model_dir;  // model.h, model.cc
  FirmwareImage image;
  std::optional<ImageUse> use;      // qemu-m4: from the link map
};

ModelPackage package_model(const CompiledModel& model, const CodegenOptions& options, Board board,
                           const std::filesystem::path& out_dir);

// Where `tml run` keeps images of models it built: $XDG_CACHE_HOME/tml/models/<key>, else
// ~/.cache/tml/models/<key>.
std::filesystem::path model_cache_dir(const std::string& key);

}  // namespace tml::deploy
