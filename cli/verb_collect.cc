// tml collect: labelled takes from a board over its serial link (a real port or an emulated
// board's socket), each checked for loss and stored atomically with its capture statistics.
#include <cmath>
#include <iostream>
#include <random>

#include "board_output.h"
#include "collect/board_client.h"
#include "collect/emulated_board.h"
#include "collect/line_capture.h"
#include "collect/link.h"
#include "collect/sample_entry.h"
#include "collect/take_writer.h"
#include "context.h"
#include "core/dataset_store.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "core/sha256.h"
#include "progress_line.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct CollectArgs {
  std::string label;
  unsigned count = 1;
  double length_ms = 0;
  std::string port;
  bool allow_gaps = false;
  bool fast = false;
  bool lines = false;
};

// The link the user means: --port (a serial port or a socket), else the project's emulated board,
// else the one recognised Nano 33 BLE.
std::unique_ptr<Link> open_board_link(const Project& project, const std::string& port) {
  if (!port.empty()) {
    if (fs::is_socket(port)) return connect_socket(port, 2000);
    return open_serial(port);
  }
  if (auto s = running_board(project)) return connect_socket(s->socket, 2000);
  std::vector<SerialPortInfo> boards;
  for (const auto& p : list_serial_ports())
    if (p.board == "nano33ble") boards.push_back(p);
  if (boards.size() == 1) return open_serial(boards[0].port);
  if (boards.size() > 1) throw invalid_input("--port", "several boards are connected; choose one with --port (see `tml devices`)");
  throw Error(ExitCode::device, "no board: start the emulated one with `tml flash --replay FILES` or plug in the "
                                "Nano 33 BLE Sense (see `tml devices`)");
}

// The HELLO's sensor that matches the project's sensor, checked field by field.
std::uint8_t matching_sensor(const Project& project, const proto::Hello& hello, const std::string& link) {
  const proto::SensorDescriptor want = project_sensor(project);
  for (std::uint8_t i = 0; i < hello.sensor_count; ++i) {
    const auto& s = hello.sensors[i];
    if (s.kind != want.kind) continue;
    std::string problem;
    if (s.format != want.format) problem = "sample format";
    else if (s.channels != want.channels) problem = "channels";
    else if (s.kind != proto::SensorKind::camera && s.rate_millihertz != want.rate_millihertz) problem = "rate";
    else if (s.kind == proto::SensorKind::camera && (s.width != want.width || s.height != want.height)) problem = "frame size";
    if (!problem.empty())
      throw invalid_input(link, "the board's " + project.sensor_kind() + " sensor differs from tml.yaml's sensor in its " +
                                    problem + "; change sensor in tml.yaml or reflash the board");
    return i;
  }
  throw invalid_input(link, "the board has no " + project.sensor_kind() + " sensor (its HELLO lists " +
                                std::to_string(hello.sensor_count) + "); is it the right board?");
}

std::uint32_t take_bytes(const proto::SensorDescriptor& s, double length_ms) {
  if (s.kind == proto::SensorKind::camera) return static_cast<std::uint32_t>(unit_bytes(s));
  const double samples = length_ms * rate_hz(s) / 1000.0;
  return static_cast<std::uint32_t>(samples + 0.5) * static_cast<std::uint32_t>(unit_bytes(s));
}


// --lines: text lines from any sketch, recorded as CSV takes for an IMU project.
int collect_lines(const Context& ctx, const Project& project, const CollectArgs& args) {
  if (project.sensor_kind() != "imu")
    throw invalid_input("--lines", "text lines are recorded as CSV for IMU projects; this project's sensor is " +
                                       project.sensor_kind());
  if (args.port.empty()) throw invalid_input("--lines", "say where the sketch prints its lines: --port /dev/ttyACM0 (or a socket)");
  auto link = fs::is_socket(args.port) ? connect_socket(args.port, 2000) : open_serial(args.port);
  LineReader reader(*link);
  const LineStream stream = detect_line_stream(reader, 1.5);
  const auto& sensor = project.config["sensor"];
  const std::size_t channels = sensor["channels"];
  const double rate = sensor["rate"];
  if (stream.columns != channels && stream.columns != channels + 1)
    throw invalid_input(args.port, "the sketch prints " + std::to_string(stream.columns) + " values per line, tml.yaml's sensor has " +
                                       std::to_string(channels) + " channels (a time column first is allowed)");
  if (std::fabs(stream.rate_hz - rate) > 0.1 * rate)
    throw invalid_input(args.port, "the sketch prints " + std::to_string(static_cast<int>(stream.rate_hz + 0.5)) +
                                       " lines/s, tml.yaml's sensor.rate is " + std::to_string(static_cast<int>(rate)) +
                                       " Hz; fix one of them");
  const double length_ms = args.length_ms > 0 ? args.length_ms : sensor.value("window_ms", 1000.0);
  const auto rows = static_cast<std::size_t>(length_ms * rate / 1000.0 + 0.5);
  DatasetStore store(project.dataset_dir());
  store.begin_writing();
  ProgressLine progress(ctx.show_progress());
  json kept = json::array(), rejected = json::array();
  const json source{{"kind", "lines"}, {"file", nullptr}, {"device", link->name()}, {"firmware", nullptr},
                    {"config_hash", project.config_hash()}};
  while (kept.size() < args.count) {
    throw_if_interrupted();
    progress.update("take " + std::to_string(kept.size() + 1), kept.size(), args.count);
    const LineTake take = capture_lines(reader, rows, stream.columns);
    json capture{{"mode", "lines"}, {"rows", take.rows}, {"declared_rate", rate}, {"measured_rate", stream.rate_hz},
                 {"seconds", take.seconds}, {"clean", take.problem.empty()}};
    if (!take.problem.empty()) capture["problem"] = take.problem;
    if (!take.problem.empty() && !args.allow_gaps) {
      rejected.push_back(json{{"problem", take.problem}});
      if (rejected.size() >= 3 && kept.empty())
        throw Error(ExitCode::device, link->name() + ": 3 takes with malformed lines (last: " + take.problem + ")");
      continue;
    }
    const std::vector<std::uint8_t> bytes(take.csv.begin(), take.csv.end());
    const std::string sha = sha256_hex(bytes);
    const json details{{"rate", rate},
                       {"channels", channels},
                       {"rows", take.rows},
                       {"time_column", stream.columns == channels + 1},
                       {"duration_s", static_cast<double>(take.rows) / rate}};
    json entry = sample_entry(project, args.label, sha, ".csv", bytes.size(), details, source, capture);
    store.add(entry, bytes);
    store.commit();
    kept.push_back(entry);
  }
  json doc{{"ok", true}, {"label", args.label}, {"columns", stream.columns}, {"measured_rate", stream.rate_hz},
           {"kept", kept}, {"rejected", rejected}};
  ctx.print(doc, [&](std::ostream& out) {
    out << "Kept " << kept.size() << " take(s) of '" << args.label << "' (" << rows << " rows of " << stream.columns
        << " values at " << static_cast<int>(stream.rate_hz + 0.5) << " lines/s)";
    if (!rejected.empty()) out << "; rejected " << rejected.size();
    out << ".\n";
  });
  return 0;
}

}  // namespace

Verb add_collect_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<CollectArgs>();
  CLI::App* sub = tml.add_subcommand("collect", "record labelled takes from the board, each checked for loss");
  sub->add_option("--label,-l", args->label, "the label of the takes")->required();
  sub->add_option("--count,-n", args->count, "how many takes to keep (default 1)")->check(CLI::Range(1u, 100000u));
  sub->add_option("--length", args->length_ms, "take length in ms (default: sensor.window_ms; a camera takes one frame)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--port,-p", args->port, "serial port or emulated board socket (default: the project's board)");
  sub->add_flag("--allow-gaps", args->allow_gaps, "keep takes with losses (recorded in the manifest) instead of rejecting them");
  sub->add_flag("--fast", args->fast, "emulated boards: replay as fast as the link allows instead of in real time");
  sub->add_flag("--lines", args->lines, "read plain \"v1,v2,...\" text lines from any sketch (IMU projects, needs --port)");
  return {sub, [&ctx, args] {
            Project project = load_project(".");
            if (!project.has_label(args->label))
              throw invalid_input("--label " + args->label, "not a label of tml.yaml (labels: " + json(project.labels()).dump() + ")");
            if (args->lines) return collect_lines(ctx, project, *args);
            auto link = open_board_link(project, args->port);
            BoardClient client(*link);
            const proto::Hello hello = client.hello();
            const std::uint8_t sensor = matching_sensor(project, hello, link->name());
            const proto::SensorDescriptor& desc = hello.sensors[sensor];
            const double length_ms = args->length_ms > 0 ? args->length_ms : project.config["sensor"].value("window_ms", 1000.0);
            const std::uint32_t bytes = take_bytes(desc, length_ms);
            if (bytes == 0) throw invalid_input("--length", "shorter than one sample");

            DatasetStore store(project.dataset_dir());
            store.begin_writing();
            ProgressLine progress(ctx.show_progress());
            json kept = json::array(), rejected = json::array();
            std::mt19937 rng(std::random_device{}());
            const json source{{"kind", "board"},
                              {"file", nullptr},
                              {"device", std::string(hello.board) + " on " + link->name()},
                              {"firmware", hello_json(hello)["firmware"]},
                              {"config_hash", project.config_hash()}};
            unsigned consecutive_rejects = 0;
            // Take numbers count up from a random start: unique within a session, and a stale frame
            // of an earlier session is unlikely to match.
            auto next_take = static_cast<std::uint16_t>(rng());
            while (kept.size() < args->count) {
              TakeRequest req{sensor, next_take++, bytes, args->fast, 2000};
              const std::string stage = "take " + std::to_string(kept.size() + 1) + "/" + std::to_string(args->count);
              TakeResult take = client.capture(req, [&](std::uint64_t got) { progress.update(stage, got, bytes); },
                                               [] { return interrupted(); });
              if (interrupted()) {
                store.commit();
                throw_if_interrupted();
              }
              json stats = capture_stats(take, desc);
              stats["take"] = req.take;
              if (!take.clean && !args->allow_gaps) {
                rejected.push_back(json{{"take", req.take}, {"problem", take.problem}, {"capture", stats}});
                if (!ctx.quiet && !ctx.json) std::cerr << "\rrejected take " << req.take << ": " << take.problem << "\n";
                if (++consecutive_rejects == 3)
                  throw Error(ExitCode::device, link->name() + ": 3 takes in a row lost data (last: " + take.problem +
                                                    "); check the cable/link, or keep them with --allow-gaps");
                continue;
              }
              EncodedTake encoded = encode_take(desc, take.bytes);
              const std::string sha = sha256_hex(encoded.bytes);
              if (store.find_by_sha256(sha) != nullptr) {
                rejected.push_back(json{{"take", req.take}, {"problem", "identical to a sample already stored"}});
                if (++consecutive_rejects == 3)
                  throw Error(ExitCode::device, link->name() + ": 3 takes in a row were identical to stored samples; "
                                                "is the sensor (or its replay) repeating itself?");
                continue;
              }
              json entry = sample_entry(project, args->label, sha, encoded.ext, encoded.bytes.size(), encoded.details,
                                        source, stats);
              store.add(entry, encoded.bytes);
              store.commit();  // every finished take is kept, whatever happens next
              kept.push_back(entry);
              consecutive_rejects = 0;
            }
            json doc{{"ok", true}, {"label", args->label}, {"kept", kept}, {"rejected", rejected}};
            ctx.print(doc, [&](std::ostream& out) {
              out << "Kept " << kept.size() << " take(s) of '" << args->label << "' from " << hello.board << " ("
                  << bytes << " bytes each)";
              if (!rejected.empty()) out << "; rejected " << rejected.size();
              out << ".\n";
            });
            return 0;
          }};
}

}  // namespace tml::cli
