#include "train_bridge/trainer.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>

#include <spdlog/spdlog.h>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/file_lock.h"
#include "core/interrupt.h"
#include "core/line_process.h"
#include "train_bridge/bundled_trainer.h"

namespace tml::train {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxLogBytes = 16u << 20;
constexpr auto kTermToKill = std::chrono::seconds(5);

// Trainer text made fit for a one-line error: control characters become spaces, long text is cut.
std::string one_line(std::string_view text, std::size_t max = 300) {
  std::string s;
  for (char c : text) s += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? ' ' : c;
  auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  s = s.substr(b, s.find_last_not_of(' ') - b + 1);
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

std::optional<double> number_of(const json& doc, const char* key) {
  if (doc.contains(key) && doc[key].is_number()) return doc[key].get<double>();
  return std::nullopt;
}

int int_of(const json& doc, const char* key, int fallback) {
  if (doc.contains(key) && doc[key].is_number()) return static_cast<int>(doc[key].get<double>());
  return fallback;
}

// Epoch events -> EpochProgress with an estimate of the time left: the mean wall time per epoch of
// the current phase times the epochs left in it and in the phases announced after it (early
// stopping makes the estimate an upper bound).
class EtaTracker {
 public:
  void start(const json& doc) {
    phases_.clear();
    if (doc.contains("phases") && doc["phases"].is_array()) {
      for (const auto& p : doc["phases"]) {
        if (p.is_object() && p.contains("name") && p["name"].is_string()) {
          phases_.emplace_back(p["name"].get<std::string>(), int_of(p, "epochs", 0));
        }
      }
    }
    last_ = Clock::now();
  }

  EpochProgress epoch(const json& doc) {
    EpochProgress p;
    p.phase = doc.contains("phase") && doc["phase"].is_string() ? doc["phase"].get<std::string>() : "classifier";
    p.epoch = int_of(doc, "epoch", 0);
    p.epochs = int_of(doc, "epochs", 0);
    p.loss = number_of(doc, "loss");
    p.accuracy = number_of(doc, "accuracy");
    p.val_loss = number_of(doc, "val_loss");
    p.val_accuracy = number_of(doc, "val_accuracy");
    auto now = Clock::now();
    if (last_ == Clock::time_point{}) last_ = now;
    if (p.phase != phase_) {
      phase_ = p.phase;
      phase_begin_ = last_;
    }
    last_ = now;
    std::size_t index = phases_.size();
    for (std::size_t i = 0; i < phases_.size(); ++i) {
      if (phases_[i].first == p.phase) index = i;
    }
    int later = 0;
    for (std::size_t i = index + 1; i < phases_.size(); ++i) later += phases_[i].second;
    p.phase_index = index < phases_.size() ? static_cast<int>(index) : 0;
    p.phases = std::max<int>(1, static_cast<int>(phases_.size()));
    if (p.epoch > 0 && p.epochs > 0) {
      double per_epoch = std::chrono::duration<double>(now - phase_begin_).count() / p.epoch;
      p.eta_seconds = per_epoch * (std::max(0, p.epochs - p.epoch) + later);
    }
    return p;
  }

 private:
  std::vector<std::pair<std::string, int>> phases_;
  std::string phase_;
  Clock::time_point phase_begin_{}, last_{};
};

// What the trainer said.
struct RunState {
  json start, done, error;
  bool interrupted_event = false;
  std::size_t events = 0;
  std::size_t garbage = 0;
  std::string first_garbage;
  std::deque<std::string> stderr_tail;
  std::string log;
  bool log_cut = false;

  void add_log(const char* prefix, std::string_view line) {
    if (log.size() + line.size() > kMaxLogBytes) {
      if (!log_cut) log += "... (log cut at 16 MiB)\n";
      log_cut = true;
      return;
    }
    log += prefix;
    log += line;
    log += '\n';
  }
};

// Removes the staging folder whatever happens.
struct StagingFolder {
  fs::path path;
  ~StagingFolder() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

void fsync_path(const fs::path& p, bool folder) {
  int fd = ::open(p.c_str(), folder ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void rename_into_place(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    int err = errno;
    throw filesystem_error(to.string(), "cannot replace the file (" + errno_text(err) + ")");
  }
}

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + (a.find(' ') == std::string::npos ? a : "'" + a + "'");
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

}  // namespace

TrainerCommand trainer_command(const Project& project, const fs::path& job_file, int threads,
                               const TrainOptions& options) {
  const auto& t = project.config["train"];
  const std::string trainer = t.value("trainer", "pytorch");
  TrainerCommand cmd;
  const std::string n = std::to_string(std::max(1, threads));
  cmd.env = {{"OMP_NUM_THREADS", n},   {"MKL_NUM_THREADS", n},      {"OMP_WAIT_POLICY", "PASSIVE"},
             {"PYTHONUNBUFFERED", "1"}, {"PYTHONDONTWRITEBYTECODE", "1"}, {"TML_JOB", job_file.string()},
             {"TML_THREADS", n}};
  auto bundled_script = [&] {
    fs::path dir = options.trainer_dir;
    if (dir.empty()) dir = install_bundled_trainer(fs::absolute(project.root).lexically_normal());
    return (dir / kBundledTrainerScript).string();
  };
  auto check_python = [&] {
    if (::access(options.python.c_str(), X_OK) != 0) {
      throw Error(ExitCode::external_tool,
                  options.python.string() + " not found: the bundled PyTorch trainer needs Debian's Python 3 with "
                  "PyTorch; install it with `sudo apt-get install python3 python3-numpy python3-torch` (or set "
                  "train.trainer: command and train.command in tml.yaml)");
    }
  };
  if (trainer == "pytorch") {
    check_python();
    cmd.argv = {options.python.string(), "-u", bundled_script(), job_file.string()};
    cmd.unset_env = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"};  // a pyenv's must not reach Debian's Python
    cmd.bundled = true;
    return cmd;
  }
  std::vector<std::string> command;
  if (t.contains("command") && t["command"].is_array()) command = t["command"].get<std::vector<std::string>>();
  if (command.empty() || command.front().empty()) {
    throw invalid_input(project.file().string() + ": train.command",
                        "is empty; with train.trainer: command give the trainer's command line, e.g. "
                        "[python3, my_trainer.py, \"{job}\"] (docs/train-bridge.md)");
  }
  bool has_job = false;
  for (auto& arg : command) {
    if (arg.find("{job}") != std::string::npos) has_job = true;
    if (arg.find("{trainer}") != std::string::npos) arg = replace_all(arg, "{trainer}", bundled_script());
    if (arg.find("{python}") != std::string::npos) {
      check_python();
      arg = replace_all(arg, "{python}", options.python.string());
    }
    arg = replace_all(arg, "{job}", job_file.string());
    arg = replace_all(arg, "{threads}", n);
  }
  if (!has_job) command.push_back(job_file.string());
  cmd.argv = std::move(command);
  return cmd;
}

TrainResult train_model(const Project& project, const json& features, const TrainOptions& options) {
  const auto started = Clock::now();
  const fs::path root = fs::absolute(project.root).lexically_normal();
  const fs::path out = root / "build" / "model";
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw filesystem_error(out.string(), "cannot create the folder (" + ec.message() + ")");

  std::optional<FileLock> lock;
  try {
    lock.emplace(out / ".lock");
  } catch (const Error& e) {
    if (e.code() != ExitCode::filesystem || std::string(e.what()).find("another tml") == std::string::npos) throw;
    throw Error(ExitCode::filesystem, out.string() + ": another `tml train` is running for this project; wait for it");
  }
  // Leftovers of runs that were killed (we hold the lock: nobody else is training here).
  remove_stale_temp_files(out);
  for (const auto& e : fs::directory_iterator(out, ec)) {
    if (e.path().filename().string().rfind(".staging-", 0) == 0) fs::remove_all(e.path(), ec);
  }

  StagingFolder staging{out / (".staging-" + std::to_string(::getpid()))};
  fs::create_directories(staging.path, ec);
  if (ec) throw filesystem_error(staging.path.string(), "cannot create the folder (" + ec.message() + ")");

  const bool anomaly = wants_anomaly_model(project);
  JobOutputs outputs{staging.path, staging.path / "model.onnx", staging.path / "metrics.json",
                     anomaly ? staging.path / "anomaly.onnx" : fs::path()};
  ojson job = make_job(project, features, root / "build" / "features", outputs, options.overrides);
  const fs::path job_file = staging.path / "job.json";
  write_file_atomic(job_file, job.dump(2) + "\n");
  const int threads = job["train"]["threads"].get<int>();

  TrainerCommand cmd = trainer_command(project, job_file, threads, options);
  const std::string failed_log_name = "build/model/failed-train.log";
  RunState st;
  st.log = "# tml train: " + joined(cmd.argv) + "\n# threads " + std::to_string(threads) + "\n";

  auto write_failed_log = [&] {
    try {
      write_file_atomic(out / "failed-train.log", st.log);
    } catch (const Error&) {
    }
  };
  auto fail = [&](const std::string& cause) {
    write_failed_log();
    return Error(ExitCode::external_tool, cause + " (build/model/ is unchanged; log: " + failed_log_name + ")");
  };

  spdlog::debug("train: {}", joined(cmd.argv));
  LineProcessOptions popts;
  popts.env = cmd.env;
  popts.unset_env = cmd.unset_env;
  popts.cwd = root;
  std::optional<LineProcess> proc;
  try {
    proc.emplace(cmd.argv, popts);
  } catch (const Error& e) {
    if (e.code() != ExitCode::external_tool) throw;
    std::string what = e.what();
    throw Error(ExitCode::external_tool,
                cmd.bundled ? what : "train.command: " + what + " (tml.yaml train.command[0])");
  }

  EtaTracker eta;
  auto on_line = [&](LineProcess::Stream stream, std::string_view line) {
    if (stream == LineProcess::Stream::err) {
      st.add_log("err| ", line);
      std::string l = one_line(line);
      if (!l.empty()) {
        st.stderr_tail.push_back(l);
        if (st.stderr_tail.size() > 20) st.stderr_tail.pop_front();
      }
      return;
    }
    st.add_log("out| ", line);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank lines are harmless
    json doc = json::parse(line.begin(), line.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("event") || !doc["event"].is_string()) {
      if (st.garbage++ == 0) st.first_garbage = one_line(line, 60);
      return;
    }
    ++st.events;
    const std::string type = doc["event"].get<std::string>();
    if (type == "start") {
      st.start = doc;
      eta.start(doc);
    } else if (type == "epoch") {
      EpochProgress p = eta.epoch(doc);
      if (options.on_progress) options.on_progress(p);
    } else if (type == "done") {
      st.done = doc;
    } else if (type == "error") {
      st.error = doc;
    } else if (type == "interrupted") {
      st.interrupted_event = true;
    } else if (type == "message" && doc.contains("text") && doc["text"].is_string()) {
      spdlog::debug("trainer: {}", one_line(doc["text"].get<std::string>()));
    }
    if (options.on_event) options.on_event(doc);
  };

  std::optional<Clock::time_point> sent_int, sent_term, sent_kill;
  while (proc->poll(std::chrono::milliseconds(100), on_line)) {
    auto now = Clock::now();
    if (interrupted() && !sent_int) {
      spdlog::debug("train: forwarding Ctrl-C to the trainer");
      proc->signal_group(SIGINT);
      sent_int = now;
    }
    if (sent_int && !sent_term && now - *sent_int > options.interrupt_grace) {
      proc->signal_group(SIGTERM);
      sent_term = now;
    }
    if (sent_term && !sent_kill && now - *sent_term > kTermToKill) {
      proc->signal_group(SIGKILL);
      sent_kill = now;
    }
  }
  const LineProcessStatus status = proc->status().value_or(LineProcessStatus{});
  proc.reset();  // also stops workers the trainer left behind
  st.log += "# exit: " + (status.signal ? signal_name(status.signal) : "code " + std::to_string(status.exit_code)) + "\n";

  if (interrupted() || sent_int) {
    write_failed_log();
    throw Error(ExitCode::interrupted, std::string("interrupted: training stopped") +
                                           (st.interrupted_event ? "" : " (the trainer was ended)") +
                                           (fs::exists(out / "model.onnx") ? "; build/model/ still holds the previous model"
                                                                           : "; no model was written"));
  }
  if (!st.error.is_null()) {
    std::string message = st.error.contains("message") && st.error["message"].is_string()
                              ? one_line(st.error["message"].get<std::string>()) : "failed";
    std::string fix = st.error.contains("fix") && st.error["fix"].is_string() ? one_line(st.error["fix"].get<std::string>()) : "";
    throw fail("trainer: " + message + (fix.empty() ? "" : "; fix: " + fix));
  }
  const std::string last_err = st.stderr_tail.empty() ? "" : ": " + st.stderr_tail.back();
  if (status.signal) {
    throw fail("the trainer was killed by " + signal_name(status.signal) +
               (status.signal == SIGKILL ? " (out of memory, or stopped by someone)" : "") + last_err);
  }
  if (status.exit_code != 0) {
    if (st.garbage && st.events == 0) {
      throw fail("the trainer exited with code " + std::to_string(status.exit_code) +
                 " and its output is not tml JSON lines (first line: '" + st.first_garbage + "')" + last_err);
    }
    throw fail("the trainer exited with code " + std::to_string(status.exit_code) + last_err);
  }
  if (st.done.is_null()) {
    if (st.garbage) {
      throw fail("the trainer's output is not tml JSON lines (" + std::to_string(st.garbage) +
                 " unreadable line(s), first: '" + st.first_garbage + "') and it never reported \"done\"; "
                 "a trainer prints one JSON object per line (docs/train-bridge.md)");
    }
    throw fail("the trainer exited without reporting {\"event\": \"done\"}; a trainer prints it after writing "
               "model.onnx and metrics.json (docs/train-bridge.md)");
  }

  // The outputs, checked before anything in build/model/ changes.
  TrainResult r;
  OnnxExpectations expect;
  expect.input_shape = job["input"]["shape"].get<std::vector<std::int64_t>>();
  expect.classes = static_cast<std::int64_t>(project.labels().size());
  try {
    r.onnx = check_onnx_file(outputs.model, expect);
  } catch (const Error& e) {
    throw fail(std::string("the trainer's ") + e.what());
  }
  if (!fs::exists(outputs.metrics)) throw fail("the trainer did not write metrics.json");
  {
    std::string text = read_file_text(outputs.metrics);
    json m = json::parse(text, nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
      throw fail("the trainer's metrics.json is not a JSON object (" + std::to_string(text.size()) + " bytes)");
    }
    r.metrics_doc = ojson::parse(text);
  }
  const bool has_anomaly = anomaly && fs::exists(outputs.anomaly_model);
  if (anomaly && cmd.bundled && !has_anomaly) throw fail("the trainer did not write anomaly.onnx");
  if (has_anomaly) {
    OnnxExpectations ae;
    ae.input_shape = expect.input_shape;
    ae.softmax_output = false;
    try {
      check_onnx_file(outputs.anomaly_model, ae);
    } catch (const Error& e) {
      throw fail(std::string("the trainer's ") + e.what());
    }
  }

  // Promotion: every output is complete and checked. Each rename is atomic; they happen one after
  // the other, so only a crash in those microseconds could pair files of two runs.
  r.dir = out;
  r.model = out / "model.onnx";
  r.metrics = out / "metrics.json";
  r.job = out / "job.json";
  r.log = out / "train.log";
  r.command = cmd.argv;
  r.start = st.start;
  r.done = st.done;
  ojson final_job = job;
  final_job["outputs"] = {{"dir", out.string()},
                          {"model", r.model.string()},
                          {"metrics", r.metrics.string()},
                          {"anomaly_model", has_anomaly ? json((out / "anomaly.onnx").string()) : json(nullptr)}};
  fsync_path(outputs.model, false);
  fsync_path(outputs.metrics, false);
  if (has_anomaly) {
    fsync_path(outputs.anomaly_model, false);
    r.anomaly_model = out / "anomaly.onnx";
    rename_into_place(outputs.anomaly_model, r.anomaly_model);
  }
  rename_into_place(outputs.model, r.model);
  rename_into_place(outputs.metrics, r.metrics);
  write_file_atomic(r.job, final_job.dump(2) + "\n");
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (st.garbage) st.log += "# note: " + std::to_string(st.garbage) + " stdout line(s) were not JSON lines\n";
  write_file_atomic(r.log, st.log);
  if (!has_anomaly) fs::remove(out / "anomaly.onnx", ec);
  fs::remove(out / "failed-train.log", ec);
  fsync_path(out, true);
  return r;
}

}  // namespace tml::train
