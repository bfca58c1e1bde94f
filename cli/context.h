#pragma once
// What every verb gets: the global options and the output channel.
#include <functional>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace tml::cli {

struct Context {
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  std::string directory;  // -C DIR

  // Prints a verb's result: the JSON document on stdout with --json, else the human text.
  void print(const nlohmann::ordered_json& doc, const std::function<void(std::ostream&)>& human) const;
  // Whether a live progress line may be drawn on stderr.
  bool show_progress() const;
};

// One verb: its CLI11 subcommand and what runs when it was chosen. run returns the exit code.
struct Verb {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Verb add_new_verb(CLI::App& tml, Context& ctx);
Verb add_config_verb(CLI::App& tml, Context& ctx);
Verb add_import_verb(CLI::App& tml, Context& ctx);
Verb add_dataset_verb(CLI::App& tml, Context& ctx);
Verb add_preprocess_verb(CLI::App& tml, Context& ctx);
Verb add_flash_verb(CLI::App& tml, Context& ctx);
Verb add_stop_verb(CLI::App& tml, Context& ctx);
Verb add_test_verb(CLI::App& tml, Context& ctx);
Verb add_monitor_verb(CLI::App& tml, Context& ctx);
Verb add_devices_verb(CLI::App& tml, Context& ctx);
Verb add_collect_verb(CLI::App& tml, Context& ctx);
Verb add_train_verb(CLI::App& tml, Context& ctx);
Verb add_inspect_verb(CLI::App& tml, Context& ctx);
Verb add_run_verb(CLI::App& tml, Context& ctx);
Verb add_deploy_verb(CLI::App& tml, Context& ctx);
Verb add_build_verb(CLI::App& tml, Context& ctx);
Verb add_doctor_verb(CLI::App& tml, Context& ctx);

}  // namespace tml::cli
