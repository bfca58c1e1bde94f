// tml flash: puts firmware on the project's board: the board app of the last `tml build` (collection
// + classification with the model; its HELLO's config hash is checked), or the data-collection
// firmware when nothing is built yet or with --collect. On the emulated boards (qemu-m4, host) it
// starts the board in the background with its sensor replaying --replay files (the board app:
// the test split by default). tml stop (or flash --stop) ends it.
#include <iostream>

#include "collect/board_client.h"
#include "collect/emulated_board.h"
#include "collect/link.h"
#include "board_output.h"
#include "built_firmware.h"
#include "context.h"
#include "core/errors.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct FlashArgs {
  std::string board;
  std::vector<std::string> replay;
  bool stop = false;
  bool collect = false;
};

}  // namespace

Verb add_flash_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<FlashArgs>();
  CLI::App* sub = tml.add_subcommand("flash", "put the built board app (or the data-collection firmware) on the board");
  sub->add_option("--board,-b", args->board, "qemu-m4, host or nano33ble (default: target.board in tml.yaml)");
  sub->add_option("--replay", args->replay, "emulated boards: files the sensor replays (WAV, images or CSV)")
      ->check(CLI::ExistingFile);
  sub->add_flag("--collect", args->collect, "the data-collection firmware even when a model is built");
  sub->add_flag("--stop", args->stop, "stop the running emulated board instead");
  return {sub, [&ctx, args] {
            Project project = load_project(".");
            if (args->stop) {
              const bool was = stop_board(project);
              ctx.print(json{{"ok", true}, {"stopped", was}},
                        [&](std::ostream& out) { out << (was ? "Board stopped.\n" : "No board was running.\n"); });
              return 0;
            }
            const std::string board = args->board.empty() ? project.config["target"]["board"].get<std::string>() : args->board;
            if (board == "nano33ble") {
              throw Error(ExitCode::device, "flashing the Nano 33 BLE needs a built firmware and arduino-cli or "
                                            "Arduino's bossac; this tml cannot flash real boards yet (use --board qemu-m4)");
            }
            if (board != "qemu-m4" && board != "host") throw invalid_input("--board " + board, "expected qemu-m4, host or nano33ble");
            std::vector<fs::path> files(args->replay.begin(), args->replay.end());
            const bool app = !args->collect && fs::exists(project.root / "build" / "report.json");
            if (app) {
              const BuiltFirmware fw = built_firmware(project, board);
              if (files.empty()) files = test_split(project).files;  // something to classify
              if (files.empty()) throw invalid_input("--replay", "the test split is empty: give the files the board's sensor replays");
              const ReplaySensor replay = prepare_replay(project, files, project.root / ".tml" / "replay");
              const FlashedBoard b = flash_app(project, fw, replay);
              json doc{{"ok", true}, {"firmware", "app"}, {"image", fw.app.string()}, {"config_hash", fw.config_hash},
                       {"board", b.state.to_json()}, {"hello", hello_json(b.hello)}};
              ctx.print(doc, [&](std::ostream& out) {
                out << "Flashed " << project.name() << "'s board app onto the " << board << " board (pid " << b.state.pid << ", "
                    << b.state.socket << "); its HELLO carries config " << fw.config_hash << ", this build's.\n"
                    << "Its " << project.sensor_kind() << " sensor replays " << replay.sources.size()
                    << " file(s). Next: `tml test`, `tml monitor`; stop it with `tml stop`.\n";
              });
              return 0;
            }
            const ReplaySensor replay = prepare_replay(project, files, project.root / ".tml" / "replay");
            const BoardState state = start_emulated_board(project, board, replay);
            auto link = connect_socket(state.socket, 2000);
            BoardClient client(*link);
            const proto::Hello hello = client.hello();
            json doc{{"ok", true}, {"firmware", "collect"}, {"board", state.to_json()}, {"hello", hello_json(hello)}};
            ctx.print(doc, [&](std::ostream& out) {
              out << "Started the " << board << " board (collection firmware " << doc["hello"]["firmware"].get<std::string>()
                  << ", pid " << state.pid << ") on " << state.socket << "\n"
                  << "Its " << project.sensor_kind() << " sensor replays " << replay.sources.size()
                  << " file(s). Stop it with `tml stop`.\n";
            });
            return 0;
          }};
}

Verb add_stop_verb(CLI::App& tml, Context& ctx) {
  CLI::App* sub = tml.add_subcommand("stop", "stop the project's emulated board");
  return {sub, [&ctx] {
            Project project = load_project(".");
            const bool was = stop_board(project);
            ctx.print(json{{"ok", true}, {"stopped", was}},
                      [&](std::ostream& out) { out << (was ? "Board stopped.\n" : "No board was running.\n"); });
            return 0;
          }};
}

}  // namespace tml::cli
