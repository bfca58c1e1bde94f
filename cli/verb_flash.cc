// tml flash: puts firmware on the project's board: the board app of the last `tml build` (collection
// + classification with the model; its HELLO's config hash is checked), or the data-collection
// firmware when nothing is built yet or with --collect. On the emulated boards (qemu-m4, host) it
// starts the board in the background with its sensor replaying --replay files (the board app:
// the test split by default). tml stop (or flash --stop) ends it. nano33ble: the board app compiled
// by tml build (arduino-cli) or --firmware FILE.bin, uploaded through the bootloader
// (collect/nano33ble_flash.h), then the board's HELLO and config hash.
#include <iostream>

#include "collect/board_client.h"
#include "collect/emulated_board.h"
#include "collect/link.h"
#include "collect/nano33ble_flash.h"
#include "core/atomic_file.h"
#include "board_output.h"
#include "built_firmware.h"
#include "context.h"
#include "core/errors.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct FlashArgs {
  std::string board, port, firmware;
  std::vector<std::string> replay;
  bool stop = false;
  bool collect = false;
};

// The real Nano 33 BLE: the board app tml build compiled with arduino-cli (or --firmware FILE.bin)
// through the 1200-baud touch and the bootloader (collect/nano33ble_flash.h), then its HELLO.
int flash_nano(const Context& ctx, const Project& project, const FlashArgs& args) {
  const fs::path built = project.root / "build" / "deploy" / "nano33ble" / "tml_app" / "build" / "tml_app.ino.bin";
  const fs::path bin = args.firmware.empty() ? built : fs::path(args.firmware);
  if (!fs::exists(bin))
    throw invalid_input(bin.string(), "no compiled firmware for the Nano 33 BLE; set target.board: nano33ble and run "
                                      "`tml build` with arduino-cli installed (see `tml doctor`), or give --firmware FILE.bin");
  SerialNanoPorts ports;
  NanoFlashOptions options;
  options.port = args.port;
  if (!ctx.json && !ctx.quiet) options.on_step = [](const std::string& step) { std::cerr << step << "\n"; };
  const NanoFlashResult r = flash_nano33ble(bin, ports, options);
  auto link = open_serial(r.port);
  BoardClient client(*link);
  const proto::Hello hello = client.hello(5000);
  json doc{{"ok", true}, {"firmware", bin.string()}, {"port", r.port}, {"uploader", r.uploader.string()},
           {"hello", hello_json(hello)}};
  // The build's app must report the build's config hash (another --firmware may report anything).
  if (args.firmware.empty()) {
    const json report = json::parse(read_file_text(project.root / "build" / "report.json"), nullptr, false);
    const std::string want = report.is_object() && report.contains("quantize") ? report["quantize"].value("config_hash", "") : "";
    check_config_hash(hello, want, r.port + " after the upload", "run `tml build` and flash again");
  }
  ctx.print(doc, [&](std::ostream& out) {
    out << "Flashed " << bin.filename().string() << " onto the Nano 33 BLE with " << r.uploader.filename().string()
        << "; it answers on " << r.port << " (firmware " << doc["hello"]["firmware"].get<std::string>() << ").\n";
  });
  return 0;
}

}  // namespace

Verb add_flash_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<FlashArgs>();
  CLI::App* sub = tml.add_subcommand("flash", "put the built board app (or the data-collection firmware) on the board");
  sub->add_option("--board,-b", args->board, "qemu-m4, host or nano33ble (default: target.board in tml.yaml)");
  sub->add_option("--replay", args->replay, "emulated boards: files the sensor replays (WAV, images or CSV)")
      ->check(CLI::ExistingFile);
  sub->add_flag("--collect", args->collect, "the data-collection firmware even when a model is built");
  sub->add_option("--port,-p", args->port, "nano33ble: the board's serial port (default: the one Nano connected)");
  sub->add_option("--firmware", args->firmware, "nano33ble: upload this .bin instead of the build's board app");
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
            if (board == "nano33ble") return flash_nano(ctx, project, *args);
            if (board != "qemu-m4" && board != "host") throw invalid_input("--board " + board, "expected qemu-m4, host or nano33ble");
            std::vector<fs::path> files(args->replay.begin(), args->replay.end());
            const bool app = !args->collect && fs::exists(project.root / "build" / "report.json");
            if (app) {
              const BuiltFirmware fw = built_firmware(project, board);
              if (files.empty()) files = test_split(project).files;  // something to classify
              if (files.empty()) throw invalid_input("--replay", "the test split is empty: give the files the board's sensor replays");
              const ReplaySensor replay = prepare_replay(project, files, project.root / ".tml" / "replay");
              const FlashedBoard b = flash_app(project, fw, replay, /*real_time=*/true);
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
