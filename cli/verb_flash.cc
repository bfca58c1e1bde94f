// tml flash: puts firmware on the project's board. With no model built yet that is the data
// collection firmware; on the emulated boards (qemu-m4, host) it starts the board in the
// background with its sensor replaying --replay files. tml stop (or flash --stop) ends it.
#include <iostream>

#include "collect/board_client.h"
#include "collect/emulated_board.h"
#include "collect/link.h"
#include "board_output.h"
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
};

}  // namespace

Verb add_flash_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<FlashArgs>();
  CLI::App* sub = tml.add_subcommand("flash", "start the emulated board (qemu-m4, host) with the data-collection firmware");
  sub->add_option("--board,-b", args->board, "qemu-m4, host or nano33ble (default: target.board in tml.yaml)");
  sub->add_option("--replay", args->replay, "emulated boards: files the sensor replays (WAV, images or CSV)")
      ->check(CLI::ExistingFile);
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
            const ReplaySensor replay = prepare_replay(project, files, project.root / ".tml" / "replay");
            const BoardState state = start_emulated_board(project, board, replay);
            auto link = connect_socket(state.socket, 2000);
            BoardClient client(*link);
            const proto::Hello hello = client.hello();
            json doc{{"ok", true}, {"board", state.to_json()}, {"hello", hello_json(hello)}};
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
