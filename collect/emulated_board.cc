#include "collect/emulated_board.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

#include "collect/audio_file.h"
#include "collect/board_client.h"
#include "collect/camera_frame.h"
#include "collect/csv_file.h"
#include "collect/feature_extraction.h"
#include "collect/importer.h"
#include "collect/link.h"
#include "collect/sample_entry.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/process.h"
#include "core/sha256.h"

namespace tml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

fs::path state_file(const Project& p) { return p.root / ".tml" / "board.json"; }

const char* kind_name(proto::SensorKind k) {
  return k == proto::SensorKind::audio ? "audio" : k == proto::SensorKind::imu ? "imu" : "camera";
}
const char* format_name(proto::SampleFormat f) {
  switch (f) {
    case proto::SampleFormat::int16: return "int16";
    case proto::SampleFormat::float32: return "float32";
    case proto::SampleFormat::rgb565: return "rgb565";
    case proto::SampleFormat::yuv422: return "yuv422";
    case proto::SampleFormat::gray8: return "gray8";
  }
  return "?";
}

// --sensor KIND:FORMAT:CHANNELS:RATE_MILLIHZ:WIDTH:HEIGHT:PATH (firmware_template/README.md).
std::string sensor_spec(const ReplaySensor& r) {
  const auto& d = r.descriptor;
  return std::string(kind_name(d.kind)) + ":" + format_name(d.format) + ":" + std::to_string(d.channels) + ":" +
         std::to_string(d.rate_millihertz) + ":" + std::to_string(d.width) + ":" + std::to_string(d.height) + ":" +
         r.raw_file.string();
}

// A socket path short enough for sockaddr_un: in the project when it fits, else under /tmp.
std::string socket_path(const Project& p) {
  const fs::path in_project = fs::absolute(p.root / ".tml" / "board.sock").lexically_normal();
  if (in_project.string().size() < 100) return in_project.string();
  return "/tmp/tml-board-" + sha256_hex(in_project.string()).substr(0, 16) + ".sock";
}

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// Alive and still running the board's firmware (a recycled pid is not our board).
bool board_alive(const BoardState& s) {
  if (!alive(s.pid)) return false;
  std::ifstream in("/proc/" + std::to_string(s.pid) + "/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find(s.firmware) != std::string::npos;
}

// Starts argv detached (its own session, output to log), returns its pid. Double fork: the board
// outlives tml and never becomes tml's zombie.
pid_t spawn_detached(const std::vector<std::string>& argv, const fs::path& log) {
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) throw Error(ExitCode::internal, "pipe: " + errno_text(errno));
  const pid_t child = ::fork();
  if (child < 0) throw Error(ExitCode::internal, "fork: " + errno_text(errno));
  if (child == 0) {
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild != 0) {
      const pid_t sent = grandchild;
      (void)!::write(pipe_fd[1], &sent, sizeof sent);
      ::_exit(0);
    }
    ::close(pipe_fd[0]);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    const std::string msg = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(pipe_fd[1]);
  pid_t pid = -1;
  const ssize_t n = ::read(pipe_fd[0], &pid, sizeof pid);
  ::close(pipe_fd[0]);
  ::waitpid(child, nullptr, 0);
  if (n != sizeof pid) throw Error(ExitCode::internal, "could not start " + argv[0]);
  return pid;
}


std::string tail_of(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

std::vector<std::uint8_t> bytes_of_pcm(const AudioClip& clip) {
  std::vector<std::uint8_t> out(clip.samples.size() * 2);
  for (std::size_t i = 0; i < clip.samples.size(); ++i) {
    float v = clip.samples[i] * 32768.0f;
    v = v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v;
    const auto s = static_cast<std::int16_t>(v < 0 ? v - 0.5f : v + 0.5f);
    std::memcpy(out.data() + 2 * i, &s, 2);
  }
  return out;
}

}  // namespace

json BoardState::to_json() const {
  return json{{"board", board},   {"pid", pid},         {"socket", socket}, {"log", log},
              {"firmware", firmware}, {"replay", replay}, {"started", started}};
}

BoardState BoardState::from_json(const json& j) {
  BoardState s;
  s.board = j.at("board");
  s.pid = j.at("pid");
  s.socket = j.at("socket");
  s.log = j.value("log", "");
  s.firmware = j.value("firmware", "");
  s.replay = j.value("replay", std::vector<std::string>{});
  s.started = j.value("started", "");
  return s;
}

proto::SensorDescriptor project_sensor(const Project& project) {
  const json& s = project.config["sensor"];
  proto::SensorDescriptor d;
  const std::string kind = s["kind"];
  if (kind == "audio") {
    d = {proto::SensorKind::audio, proto::SampleFormat::int16, s["channels"].get<std::uint16_t>(),
         static_cast<std::uint32_t>(s["rate"].get<double>() * 1000.0), 0, 0};
  } else if (kind == "imu") {
    d = {proto::SensorKind::imu, proto::SampleFormat::float32, s["channels"].get<std::uint16_t>(),
         static_cast<std::uint32_t>(s["rate"].get<double>() * 1000.0), 0, 0};
  } else {
    const std::string f = s["pixel_format"];
    d = {proto::SensorKind::camera,
         f == "rgb565" ? proto::SampleFormat::rgb565 : f == "yuv422" ? proto::SampleFormat::yuv422 : proto::SampleFormat::gray8,
         1, 5000u /* 5 frames/s */, s["width"].get<std::uint16_t>(), s["height"].get<std::uint16_t>()};
  }
  return d;
}

std::vector<std::uint8_t> sensor_bytes_of(const Project& project, const fs::path& f) {
  const proto::SensorDescriptor d = project_sensor(project);
  const std::string kind = sensor_kind_of(f);
  if (kind != project.sensor_kind())
    throw invalid_input(f.string(), "not a file the project's " + project.sensor_kind() +
                                        " sensor can replay (WAV/FLAC/Ogg/AIFF for audio, PNG/JPEG/BMP for a camera, CSV for an IMU)");
  if (d.kind == proto::SensorKind::audio) {
    AudioClip clip = read_audio(f);
    const int rate = static_cast<int>(d.rate_millihertz / 1000);
    if (clip.rate != rate || clip.channels != d.channels) clip = convert_audio(clip, rate, d.channels);
    return bytes_of_pcm(clip);
  }
  if (d.kind == proto::SensorKind::camera) {
    cv::Mat bgr = cv::imread(f.string(), cv::IMREAD_COLOR), rgb;
    if (bgr.empty()) throw invalid_input(f.string(), "OpenCV cannot read this image");
    if (bgr.cols != d.width || bgr.rows != d.height) cv::resize(bgr, bgr, cv::Size(d.width, d.height), 0, 0, cv::INTER_AREA);
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return encode_camera_frame(rgb, d.format);
  }
  std::vector<std::uint8_t> raw;
  const auto text = read_file_bytes(f);
  const CsvTable t = parse_csv(std::string(text.begin(), text.end()), f.string());
  const std::size_t first = t.columns == d.channels + 1u ? 1 : 0;
  if (t.columns - first != d.channels)
    throw invalid_input(f.string(), std::to_string(t.columns) + " columns, the sensor has " + std::to_string(d.channels) + " channels");
  for (const auto& row : t.rows)
    for (std::size_t c = first; c < t.columns; ++c) {
      const float v = static_cast<float>(row[c]);
      const auto* b = reinterpret_cast<const std::uint8_t*>(&v);
      raw.insert(raw.end(), b, b + 4);
    }
  return raw;
}

std::size_t sensor_window_bytes(const Project& project) {
  const proto::SensorDescriptor d = project_sensor(project);
  if (project.sensor_kind() == "audio") {
    const double rate = project.config["sensor"]["rate"].get<double>();
    const auto samples = static_cast<std::size_t>(std::llround(project.config["sensor"]["window_ms"].get<double>() * rate / 1000.0));
    return samples * proto::bytes_per_sample(d.format, d.channels);
  }
  if (project.sensor_kind() == "imu") {
    const pre::ImuConfig c = imu_config_of(project);
    return static_cast<std::size_t>(c.window_samples) * c.channels * 4;
  }
  return static_cast<std::size_t>(d.width) * d.height * proto::bytes_per_sample(d.format, d.channels);
}

std::vector<std::uint8_t> sensor_window_of(const Project& project, std::vector<std::uint8_t> raw) {
  raw.resize(sensor_window_bytes(project), 0);
  return raw;
}

ReplaySensor prepare_replay(const Project& project, const std::vector<fs::path>& files, const fs::path& dir) {
  if (files.empty()) throw invalid_input("--replay", "give at least one file for the board's sensor to replay");
  ReplaySensor r{project_sensor(project), fs::absolute(dir / "replay.raw"), {}};
  std::vector<std::uint8_t> raw;
  for (const fs::path& f : files) {
    const auto bytes = sensor_bytes_of(project, f);
    raw.insert(raw.end(), bytes.begin(), bytes.end());
    r.sources.push_back(fs::absolute(f).lexically_normal().string());
  }
  fs::create_directories(dir);
  write_file_atomic(r.raw_file, raw);
  return r;
}

fs::path collection_firmware(const std::string& board) {
  const fs::path dir = TML_FIRMWARE_DIR;
  const fs::path image = board == "qemu-m4" ? dir / "qemu-m4" / "collect.elf" : dir / "host" / "collect_host";
  if (!fs::is_regular_file(image))
    throw Error(ExitCode::external_tool, image.string() + ": the " + board +
                                             " collection firmware is not built; run scripts/build.sh");
  return image;
}

double instructions_per_tick(const std::string& board, std::uint32_t tick_hz) {
  if (board != "qemu-m4" || tick_hz == 0) return 0.0;
  return 1e9 / tick_hz / static_cast<double>(1 << kQemuIcountShift);
}

BoardState start_emulated_board(const Project& project, const std::string& board, const ReplaySensor& replay,
                                const fs::path& firmware, bool real_time) {
  if (board != "qemu-m4" && board != "host")
    throw invalid_input("--board " + board, "emulated boards are qemu-m4 and host");
  if (!firmware.empty() && !fs::is_regular_file(firmware))
    throw Error(ExitCode::filesystem, firmware.string() + ": no such firmware image; run `tml build`");
  stop_board(project);
  BoardState s;
  s.board = board;
  s.firmware = firmware.empty() ? collection_firmware(board).string() : fs::absolute(firmware).string();
  s.socket = socket_path(project);
  s.log = fs::absolute(project.root / ".tml" / "board.log").lexically_normal().string();
  s.replay = replay.sources;
  s.started = utc_now();
  fs::create_directories(project.root / ".tml");
  fs::remove(s.socket);
  const std::string spec = sensor_spec(replay);
  std::vector<std::string> argv;
  if (board == "host") {
    argv = {s.firmware, "--socket", s.socket, "--sensor", spec};
  } else {
    if (find_program("qemu-system-arm").empty())
      throw Error(ExitCode::external_tool, "qemu-system-arm is not installed; install it with `apt install qemu-system-arm` "
                                           "(scripts/setup.sh does)");
    if (spec.find_first_of(" \t") != std::string::npos)
      throw invalid_input(replay.raw_file.string(), "QEMU cannot pass paths with spaces to the board; move the project");
    argv = {"qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-display", "none", "-monitor", "none",
            "-serial", "unix:" + s.socket + ",server,nowait", "-semihosting-config",
            "enable=on,target=native,arg=firmware,arg=--sensor,arg=" + qemu_option_value(spec), "-kernel", s.firmware};
    if (!firmware.empty()) {  // the board app: a realistic clock, instructions counted exactly
      argv.push_back("-icount");
      argv.push_back("shift=" + std::to_string(kQemuIcountShift) + (real_time ? ",align=on" : ""));
    }
  }
  s.pid = spawn_detached(argv, s.log);
  write_file_atomic(state_file(project), s.to_json().dump(2) + "\n");
  // Ready when it answers HELLO on its socket.
  try {
    auto link = connect_socket(s.socket, 10000);
    BoardClient client(*link);
    client.hello(10000);
  } catch (const Error& e) {
    const std::string why = tail_of(s.log);
    stop_board(project);
    throw Error(ExitCode::device, "the " + board + " board did not start: " + e.what() +
                                      (why.empty() ? std::string() : " (its log says: " + why + ")"));
  }
  return s;
}

std::optional<BoardState> running_board(const Project& project) {
  const fs::path f = state_file(project);
  if (!fs::exists(f)) return std::nullopt;
  BoardState s;
  try {
    const auto bytes = read_file_bytes(f);
    s = BoardState::from_json(json::parse(bytes.begin(), bytes.end()));
  } catch (const std::exception&) {
    fs::remove(f);
    return std::nullopt;
  }
  if (!board_alive(s)) {
    fs::remove(f);
    return std::nullopt;
  }
  return s;
}

bool stop_board(const Project& project) {
  const auto s = running_board(project);
  if (!s) return false;
  ::kill(s->pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (alive(s->pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (alive(s->pid)) ::kill(s->pid, SIGKILL);
  fs::remove(state_file(project));
  fs::remove(s->socket);
  return true;
}

}  // namespace tml
