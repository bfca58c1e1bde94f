// The acceptance run: a voice-control project with >= 400 one-second clips — keywords spoken by
// espeak-ng in many voices, speeds and pitches, resampled to 16 kHz by sox, padded/cut to one second
// at a random offset, mixed with the real background noise of ../shared/data/audio, plus the real
// "yes"/"no" recordings there — goes through the real tml binary: `tml new`, `tml import`,
// `tml train` (features computed on the way). The float model must reach >= 90 % test accuracy.
// A couple of minutes on 2 cores; filter with --gtest_filter=-TrainBridgeAcceptance.*.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>

#include "core/npy.h"
#include "deploy/float_executor.h"
#include "deploy/onnx_import.h"
#include "train_fixtures.h"

namespace tml::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
namespace tt = tml::test::train;

// Writes OUT/<label>/*.wav: yes 130 + 4 real, no 130 + 4 real, _unknown 150 (33 other words),
// _silence 60 (real noise and silence at random gains). Deterministic for a seed.
const char* kGenerator = R"gen_py(import os, shutil, subprocess, sys, wave
import numpy as np
out = sys.argv[1]; shared = sys.argv[2]; seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rng = np.random.default_rng(seed)
R = 16000
def read_wav(p):
    with wave.open(p) as w:
        a = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        assert w.getframerate() == R and w.getnchannels() == 1
    return a
def write_wav(p, a):
    a = np.clip(np.round(a * 32767), -32768, 32767).astype(np.int16)
    with wave.open(p, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(R); w.writeframes(a.tobytes())
noise = read_wav(os.path.join(shared, "audio/noise_1000ms.wav"))
silence = read_wav(os.path.join(shared, "audio/silence_1000ms.wav"))
def background():
    g = rng.uniform(0.0, 0.5)
    return np.roll(noise, int(rng.integers(R))) * g + rng.normal(size=R).astype(np.float32) * rng.uniform(0, 0.003)
voices = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
variants = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "klatt", "klatt2", "croak", "whisper"]
tmp = out.rstrip("/") + ".work"
os.makedirs(tmp, exist_ok=True)
def speak(word, path):
    v = voices[rng.integers(len(voices))] + "+" + variants[rng.integers(len(variants))]
    s, p = int(rng.integers(110, 220)), int(rng.integers(20, 80))
    raw, res = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "res.wav")
    subprocess.run(["espeak-ng", "-v", v, "-s", str(s), "-p", str(p), "-w", raw, word], check=True)
    subprocess.run(["sox", "-R", "-G", raw, "-r", "16000", "-c", "1", "-b", "16", res], check=True)
    a = read_wav(res)
    nz = np.nonzero(np.abs(a) > 0.01)[0]
    if len(nz): a = a[max(0, nz[0] - 400): nz[-1] + 400]
    a = a[:R]
    clip = np.zeros(R, dtype=np.float32)
    off = int(rng.integers(0, R - len(a) + 1))
    clip[off:off + len(a)] = a / max(1e-3, np.abs(a).max()) * rng.uniform(0.3, 0.9)
    write_wav(path, clip + background())
counts = {"yes": 130, "no": 130, "_unknown": 150, "_silence": 60}
# Other words (none that sounds like "yes" or "no"), as Speech Commands' unknown class.
unknown_words = ["go", "stop", "left", "right", "up", "down", "on", "off", "seven", "bird", "house", "tree",
                 "wow", "happy", "cat", "dog", "bed", "marvin", "sheila", "nine", "four", "learn", "follow",
                 "visual", "zero", "one", "two", "three", "five", "six", "eight", "forward", "backward"]
for label, n in counts.items():
    d = os.path.join(out, label); os.makedirs(d, exist_ok=True)
    for i in range(n):
        p = os.path.join(d, f"{label.strip('_')}_{i:03d}.wav")
        if label in ("yes", "no"):
            speak(label, p)
        elif label == "_unknown":
            speak(unknown_words[rng.integers(len(unknown_words))], p)
        else:
            base = silence if rng.random() < 0.3 else np.zeros(R, dtype=np.float32)
            write_wav(p, base * rng.uniform(0, 1) + background())
# The real recordings (Speech Commands), as they are and with background noise.
for label in ("yes", "no"):
    a = read_wav(os.path.join(shared, f"audio/{label}_1000ms.wav"))
    write_wav(os.path.join(out, label, f"real_{label}.wav"), a)
    for k in range(3):
        write_wav(os.path.join(out, label, f"real_{label}_noisy{k}.wav"), a + background())
shutil.rmtree(tmp)
)gen_py";

TEST(TrainBridgeAcceptance, VoiceControlFromEspeakClipsReaches90Percent) {
  if (!tt::have_torch()) GTEST_SKIP() << "no torch for /usr/bin/python3";
  for (const char* tool : {"/usr/bin/espeak-ng", "/usr/bin/sox"}) {
    if (!fs::exists(tool)) GTEST_SKIP() << tool << " missing (apt-get install espeak-ng sox)";
  }
  test::TempDir dir;
  auto t0 = std::chrono::steady_clock::now();
  test::write_text(dir / "gen.py", kGenerator);
  auto g = run_process({"/usr/bin/python3", (dir / "gen.py").string(), (dir / "clips").string(),
                        test::shared_data("").string(), "1"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::size_t clips = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "clips")) clips += e.path().extension() == ".wav";
  ASSERT_GE(clips, 400u);
  auto t1 = std::chrono::steady_clock::now();

  auto r = test::run_tml({"new", "vc", "--template", "voice-control", "--dir", (dir / "vc").string()}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path project = dir / "vc";
  std::vector<std::string> import = {"import"};
  for (const char* label : {"yes", "no", "_silence", "_unknown"}) import.push_back((dir / "clips" / label).string());
  r = test::run_tml(import, project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t2 = std::chrono::steady_clock::now();

  r = test::run_tml({"--json", "train", "--threads", "2"}, project);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t3 = std::chrono::steady_clock::now();
  json doc = json::parse(r.out);
  const double test_accuracy = doc["accuracy"]["test"].get<double>();
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::printf("[ figures  ] %zu clips (generated in %.1f s, imported in %.1f s); train (features + %d epochs, "
              "best %d%s) %.1f s; accuracy test %.1f%% of %d, validation %.1f%%, train %.1f%%\n",
              clips, secs(t0, t1), secs(t1, t2), doc["epochs_run"].get<int>(), doc["best_epoch"].get<int>(),
              doc["stopped_early"].get<bool>() ? ", stopped early" : "", secs(t2, t3), 100 * test_accuracy,
              doc["test_count"].get<int>(), 100 * doc["accuracy"]["validation"].get<double>(),
              100 * doc["accuracy"]["train"].get<double>());
  EXPECT_GE(doc["test_count"].get<int>(), 50);
  EXPECT_GE(test_accuracy, 0.90) << r.out;
  EXPECT_EQ(doc["onnx"]["input_shape"], json({-1, 1, 49, 10}));
  EXPECT_TRUE(fs::exists(project / "build/model/model.onnx"));
  EXPECT_TRUE(fs::exists(project / "build/model/train.log"));
  json metrics = json::parse(test::read_text(project / "build/model/metrics.json"));
  EXPECT_NE(metrics["augment"].get<std::string>().find("background mixing"), std::string::npos);

  // The ONNX back in tml: imported into deploy's IR and run by the float reference executor on the
  // test split, it must score what the trainer reported (within 0.5 points).
  const deploy::Graph graph = deploy::import_onnx(project / "build/model/model.onnx");
  const NpyArray x = npy_read(project / "build/features/test_x.npy");
  const NpyArray y = npy_read(project / "build/features/test_y.npy");
  ASSERT_EQ(x.shape.size(), 3u);  // {N, 49, 10}: as NHWC {1, 49, 10, 1} the bytes are the same
  const std::size_t n = x.shape[0], per = x.shape[1] * x.shape[2];
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<float> sample(per);
    std::memcpy(sample.data(), x.data.data() + i * per * 4, per * 4);
    const std::vector<float> p = deploy::run_float(graph, {sample}).at(0);
    const auto best = static_cast<std::int32_t>(std::max_element(p.begin(), p.end()) - p.begin());
    std::int32_t label;
    std::memcpy(&label, y.data.data() + i * 4, 4);
    correct += best == label ? 1 : 0;
  }
  const double imported_accuracy = static_cast<double>(correct) / static_cast<double>(n);
  std::printf("[ figures  ] imported ONNX, float executor: test accuracy %.1f%% (trainer %.1f%%)\n",
              100 * imported_accuracy, 100 * test_accuracy);
  EXPECT_NEAR(imported_accuracy, test_accuracy, 0.005);
}

}  // namespace
}  // namespace tml::train
