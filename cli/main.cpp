// tml: the TinyML toolchain. Parses the command line, runs one verb, maps errors to exit codes
// (docs/cli.md) and keeps stdout for results: logs and errors go to stderr.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <vector>

#include "context.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/logging.h"
#include "version.h"

namespace {

int report_error(const tml::cli::Context& ctx, tml::ExitCode code, const std::string& message) {
  spdlog::error("{}", message);
  if (ctx.json) {
    nlohmann::ordered_json doc{{"ok", false}, {"error", {{"code", static_cast<int>(code)}, {"message", message}}}};
    std::cout << doc.dump(2) << std::endl;
  }
  return static_cast<int>(code);
}

}  // namespace

int main(int argc, char** argv) {
  tml::cli::Context ctx;
  CLI::App app{"tml: TinyML from sensor data to int8 firmware, on the host and on the board", "tml"};
  app.set_version_flag("--version", "tml " TML_VERSION);
  app.fallthrough();
  app.add_option("-C", ctx.directory, "run as if tml was started in DIR (the project folder)")->type_name("DIR");
  app.add_flag("-v,--verbose", ctx.verbose, "more log output");
  app.add_flag("-q,--quiet", ctx.quiet, "only warnings and errors");
  app.add_flag("--json", ctx.json, "print one JSON document (or JSON lines for streams) on stdout");
  app.footer("Exit codes: 0 ok, 1 internal error, 2 usage or invalid input, 3 device or link,\n"
             "4 external tool, 5 file system, 130 interrupted. See docs/cli.md.");

  std::vector<tml::cli::Verb> verbs = {
      tml::cli::add_new_verb(app, ctx),
      tml::cli::add_config_verb(app, ctx),
      tml::cli::add_import_verb(app, ctx),
      tml::cli::add_dataset_verb(app, ctx),
      tml::cli::add_preprocess_verb(app, ctx),
      tml::cli::add_devices_verb(app, ctx),
      tml::cli::add_flash_verb(app, ctx),
      tml::cli::add_test_verb(app, ctx),
      tml::cli::add_monitor_verb(app, ctx),
      tml::cli::add_collect_verb(app, ctx),
      tml::cli::add_train_verb(app, ctx),
      tml::cli::add_build_verb(app, ctx),
      tml::cli::add_deploy_verb(app, ctx),
      tml::cli::add_run_verb(app, ctx),
      tml::cli::add_inspect_verb(app, ctx),
      tml::cli::add_stop_verb(app, ctx),
      tml::cli::add_doctor_verb(app, ctx),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    tml::setup_logging(tml::Verbosity::normal);
    return report_error(ctx, tml::ExitCode::invalid_input, std::string(e.what()) + "; see tml --help");
  }
  tml::setup_logging(ctx.quiet ? tml::Verbosity::quiet
                               : ctx.verbose ? tml::Verbosity::verbose : tml::Verbosity::normal);
  tml::install_interrupt_handler();

  try {
    if (!ctx.directory.empty()) {
      std::error_code ec;
      std::filesystem::current_path(ctx.directory, ec);
      if (ec) throw tml::invalid_input("-C " + ctx.directory, "cannot enter the folder (" + ec.message() + ")");
    }
    for (auto& verb : verbs) {
      if (app.got_subcommand(verb.app)) return verb.run();
    }
    std::cout << app.help();
    return static_cast<int>(tml::ExitCode::invalid_input);
  } catch (const tml::Error& e) {
    return report_error(ctx, e.code(), e.what());
  } catch (const std::exception& e) {
    return report_error(ctx, tml::ExitCode::internal,
                        std::string("internal error: ") + e.what() + " (please report this as a tml bug)");
  }
}
