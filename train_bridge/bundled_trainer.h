#pragma once
// The bundled PyTorch trainer (train_bridge/trainers/*.py), compiled into tml so it works from any
// install location. It is written out once per content into <project>/.tml/trainer/<hash>/.
#include <filesystem>
#include <string>
#include <vector>

namespace tml::train {

struct BundledFile {
  std::string name;
  std::string text;
};

const std::vector<BundledFile>& bundled_trainer_files();

// The main script's file name inside the trainer folder.
inline constexpr const char* kBundledTrainerScript = "tml_trainer.py";

// Writes the files into ROOT/.tml/trainer/<first 16 hex digits of their SHA-256>/ unless that
// folder exists (temp folder + rename: never half written) and returns the folder.
std::filesystem::path install_bundled_trainer(const std::filesystem::path& root);

}  // namespace tml::train
