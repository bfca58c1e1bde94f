// tml monitor: live classification on the board from its own sensor (qemu-m4/host: the replayed
// files; a real board: its microphone, IMU or camera), a window every --hop-ms. Each result is
// smoothed (score_smoother.h) and shown as a live line; detections get a line of their own. With
// --json: one JSON line per window. Ends after --windows windows or at Ctrl-C (exit 0).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "built_firmware.h"
#include "collect/board_classify.h"
#include "context.h"
#include "core/errors.h"
#include "core/interrupt.h"
#include "score_smoother.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct MonitorArgs {
  std::string board, port;
  double hop_ms = 0;
  std::uint32_t windows = 0;
  SmootherConfig smoothing;
  double suppress_ms = 1000;
};

// The scores of one window: the dequantized outputs, through a softmax unless they already are
// probabilities (a softmax output layer).
std::vector<double> scores_of(const std::vector<std::uint8_t>& out, const BuiltFirmware& fw) {
  std::vector<double> s;
  double sum = 0, lowest = 0;
  for (std::uint8_t b : out) {
    s.push_back((static_cast<std::int8_t>(b) - fw.output_zero_point) * static_cast<double>(fw.output_scale));
    sum += s.back();
    lowest = std::min(lowest, s.back());
  }
  if (lowest >= 0 && std::fabs(sum - 1.0) < 0.05) return s;
  double top = s.empty() ? 0 : *std::max_element(s.begin(), s.end()), total = 0;
  for (double& v : s) total += (v = std::exp(v - top));
  for (double& v : s) v /= total;
  return s;
}

int run_monitor(const Context& ctx, const MonitorArgs& args) {
  Project project = load_project(".");
  const std::string board = args.board.empty() ? project.config["target"].value("board", "qemu-m4") : args.board;
  const BuiltFirmware fw = built_firmware(project, board == "nano33ble" ? "qemu-m4" : board);
  if (board == "nano33ble" && args.port.empty())
    throw invalid_input("--board nano33ble", "give the board's serial port with --port (see `tml devices`)");
  FlashedBoard b;
  if (!args.port.empty()) {
    b.link = open_serial(args.port);
    b.client = std::make_unique<BoardClient>(*b.link);
    b.hello = b.client->hello();
    check_config_hash(b.hello, fw.config_hash, args.port);
  } else {
    b = connect_app(project, fw);
  }
  const proto::SensorDescriptor sensor = project_sensor(project);
  const std::size_t sample_bytes = sensor.kind == proto::SensorKind::camera ? fw.window_bytes
                                                                           : proto::bytes_per_sample(sensor.format, sensor.channels);
  const double units_per_second = sensor.rate_millihertz / 1000.0;  // samples, or frames for a camera
  // The hop: 250 ms for audio, half the window for an IMU, every frame for a camera.
  double hop_ms = args.hop_ms;
  const double window_s = static_cast<double>(fw.window_bytes) / sample_bytes / units_per_second;
  if (hop_ms <= 0) hop_ms = sensor.kind == proto::SensorKind::audio ? 250.0 : sensor.kind == proto::SensorKind::imu ? 500.0 * window_s : 1000.0 * window_s;
  std::uint32_t hop_bytes = sensor.kind == proto::SensorKind::camera
                                ? fw.window_bytes
                                : static_cast<std::uint32_t>(std::llround(hop_ms / 1000.0 * units_per_second)) * static_cast<std::uint32_t>(sample_bytes);
  if (hop_bytes == 0 || hop_bytes > fw.window_bytes)
    throw invalid_input("--hop-ms " + std::to_string(hop_ms), "the hop must be between one sample and the window (" +
                                                              std::to_string(1000.0 * window_s) + " ms)");
  const auto labels = project.labels();
  SmootherConfig smoothing = args.smoothing;
  smoothing.suppress_seconds = args.suppress_ms / 1000.0;
  ScoreSmoother smoother(labels, smoothing);
  install_interrupt_handler();
  const double bytes_per_second = units_per_second * static_cast<double>(sample_bytes);
  std::size_t detections = 0;
  bool live_line = false;
  if (!ctx.json && !ctx.quiet)
    std::cerr << "Monitoring " << project.name() << " on the " << b.hello.board << " board: a " << 1000.0 * window_s
              << " ms window every " << hop_ms << " ms (Ctrl-C to stop)\n";
  ClassifyRequest req;
  req.sensor = project_sensor_index(b.hello, project, args.port.empty() ? b.hello.board : args.port);
  req.take = 2;
  // The first result needs a whole window of the sensor's time, then one hop each.
  req.idle_timeout_ms = static_cast<int>(std::max(2000.0, 1000.0 * window_s + hop_ms + 2000.0));
  req.windows = args.windows;
  req.hop_bytes = hop_bytes;
  const ClassifyRun run = classify_on_board(
      *b.client, req,
      [&](const WindowResult& w) {
        const std::vector<double> scores = scores_of(w.outputs, fw);
        const int top = static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
        const double time = (w.stream_offset + fw.window_bytes) / bytes_per_second;
        const Smoothed s = smoother.add(scores, time);
        detections += s.detection;
        const double latency_ms = w.tick_hz ? 1e3 * (static_cast<double>(w.features_ticks) + w.inference_ticks) / w.tick_hz : 0.0;
        if (ctx.json) {
          json line{{"window", w.window}, {"time_s", time}, {"label", labels[static_cast<std::size_t>(top)]},
                    {"score", scores[static_cast<std::size_t>(top)]}, {"smoothed_label", labels[static_cast<std::size_t>(s.label)]},
                    {"smoothed_score", s.score}, {"detection", s.detection}, {"latency_ms", latency_ms}};
          const double ipt = instructions_per_tick(b.hello.board, w.tick_hz);
          if (ipt > 0) line["instructions"] = static_cast<long long>((static_cast<double>(w.features_ticks) + w.inference_ticks) * ipt + 0.5);
          std::cout << line.dump() << "\n" << std::flush;
        } else if (!ctx.quiet) {
          char text[256];
          std::snprintf(text, sizeof text, "%8.2f s  %-12s %5.2f   smoothed %-12s %5.2f   %6.1f ms on the board",
                        time, labels[static_cast<std::size_t>(top)].c_str(), scores[static_cast<std::size_t>(top)],
                        labels[static_cast<std::size_t>(s.label)].c_str(), s.score, latency_ms);
          if (s.detection) {
            std::snprintf(text, sizeof text, "%8.2f s  DETECTED %s (%.2f averaged over %zu windows)", time,
                          labels[static_cast<std::size_t>(s.label)].c_str(), s.score, smoothing.average_windows);
            std::cout << (live_line ? "\r\033[K" : "") << text << "\n" << std::flush;
            live_line = false;
          } else if (ctx.show_progress()) {
            std::cout << "\r\033[K" << text << std::flush;
            live_line = true;
          } else {
            std::cout << text << "\n" << std::flush;
          }
        }
        return true;
      },
      [] { return interrupted(); });
  if (live_line) std::cout << "\n";
  if (ctx.json) {
    std::cout << json{{"ok", true}, {"windows", run.windows}, {"detections", detections}, {"stopped", run.stopped}}.dump() << "\n";
  } else if (!ctx.quiet) {
    std::cout << run.windows << " windows classified, " << detections << " detection(s)\n";
  }
  return 0;
}

}  // namespace

Verb add_monitor_verb(CLI::App& tml, Context& ctx) {
  auto args = std::make_shared<MonitorArgs>();
  CLI::App* sub = tml.add_subcommand("monitor", "live classification on the board from its own sensor, smoothed");
  sub->add_option("--board,-b", args->board, "qemu-m4, host (the running emulated board) or nano33ble (default: target.board)");
  sub->add_option("--port,-p", args->port, "a real board's serial port running the built app");
  sub->add_option("--hop-ms", args->hop_ms, "a new window every this many ms (default: 250 audio, half the window IMU, every frame camera)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--windows,-n", args->windows, "stop after this many windows (default: until Ctrl-C)");
  sub->add_option("--average", args->smoothing.average_windows, "average the scores of this many recent windows")
      ->check(CLI::Range(1, 100));
  sub->add_option("--threshold", args->smoothing.threshold, "averaged score a detection needs (0..1)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--suppress-ms", args->suppress_ms, "no new detection this long after one")->check(CLI::NonNegativeNumber);
  return {sub, [&ctx, args] { return run_monitor(ctx, *args); }};
}

}  // namespace tml::cli
