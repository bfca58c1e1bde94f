// Sustained capture rate from the emulated boards: one long take replayed as fast as the link
// allows, received by tml's protocol client with every check on. Prints payload bytes/s (the
// samples) against link bytes/s (everything on the wire), their ratio (goal >= 0.95 of the link)
// and the losses (must be zero). Asserts nothing.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "collect/board_client.h"
#include "collect/link.h"
#include "core/process.h"

namespace fs = std::filesystem;
using namespace tml;

namespace {

void measure(const char* board, const std::vector<std::string>& argv, const std::string& socket, std::uint32_t bytes) {
  Process p(argv);
  try {
    auto link = connect_socket(socket, 10000);
    BoardClient client(*link);
    client.hello(10000);
    TakeRequest req{0, 1, bytes, true, 5000};
    const TakeResult t = client.capture(req);
    std::printf("%-8s %8.1f KiB take: payload %9.0f B/s, link %9.0f B/s, ratio %.3f (goal >= 0.95); "
                "lost %llu, corrupt %llu, gaps %llu B, clean %s\n",
                board, bytes / 1024.0, t.bytes.size() / t.seconds, t.link_bytes / t.seconds,
                static_cast<double>(t.bytes.size()) / static_cast<double>(t.link_bytes),
                static_cast<unsigned long long>(t.lost_frames), static_cast<unsigned long long>(t.corrupt_frames),
                static_cast<unsigned long long>(t.gap_bytes), t.clean ? "yes" : t.problem.c_str());
  } catch (const std::exception& e) {
    std::printf("%-8s failed: %s\n", board, e.what());
  }
  p.send_signal(SIGKILL);
  p.wait();
}

}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / ("tml_capture_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // 10 s of 16 kHz int16 audio (a ramp; the content does not matter to the link).
  std::vector<std::int16_t> pcm(160000);
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(i * 7);
  std::ofstream(dir / "audio.raw", std::ios::binary)
      .write(reinterpret_cast<const char*>(pcm.data()), static_cast<std::streamsize>(pcm.size() * 2));
  const std::string sensor = "audio:int16:1:16000000:0:0:" + (dir / "audio.raw").string();
  std::printf("Capture from emulated boards, as fast as the link allows (frames of up to 1024 payload bytes)\n");
  measure("host", {TML_COLLECT_HOST, "--socket", (dir / "host.sock").string(), "--sensor", sensor},
          (dir / "host.sock").string(), 8u << 20);
  measure("qemu-m4",
          {"qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-display", "none", "-monitor", "none", "-serial",
           "unix:" + (dir / "qemu.sock").string() + ",server,nowait", "-semihosting-config",
           "enable=on,target=native,arg=firmware,arg=--sensor,arg=" + sensor, "-kernel", TML_COLLECT_ELF},
          (dir / "qemu.sock").string(), 1u << 20);
  fs::remove_all(dir);
  return 0;
}
