#include "collect/audio_file.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "core/errors.h"

namespace tml {

namespace fs = std::filesystem;

namespace {

using SndFile = std::unique_ptr<SNDFILE, decltype(&sf_close)>;

// libsndfile opens a WAV whose data chunk runs past the end of the file and reads what is
// there; its log says "data : N (should be M)" with M < N. That is a truncated file.
bool log_says_truncated(SNDFILE* f) {
  char log[8192] = {0};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    long long declared = 0, actual = 0;
    if (std::sscanf(line.c_str(), "data : %lld (should be %lld)", &declared, &actual) == 2 && actual < declared) {
      return true;
    }
  }
  return false;
}

// In-memory output for sf_open_virtual.
struct MemoryFile {
  std::vector<std::uint8_t> bytes;
  sf_count_t pos = 0;
};

sf_count_t mem_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->bytes.size()); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : static_cast<sf_count_t>(m->bytes.size());
  m->pos = std::max<sf_count_t>(0, base + offset);
  return m->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  sf_count_t n = std::clamp<sf_count_t>(static_cast<sf_count_t>(m->bytes.size()) - m->pos, 0, count);
  std::memcpy(ptr, m->bytes.data() + m->pos, static_cast<std::size_t>(n));
  m->pos += n;
  return n;
}
sf_count_t mem_write(const void* ptr, sf_count_t count, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  auto end = static_cast<std::size_t>(m->pos + count);
  if (m->bytes.size() < end) m->bytes.resize(end);
  std::memcpy(m->bytes.data() + m->pos, ptr, static_cast<std::size_t>(count));
  m->pos += count;
  return count;
}
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

std::int16_t to_int16(float v) {
  float scaled = std::nearbyint(v * 32768.0f);
  return static_cast<std::int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
}

}  // namespace

AudioClip read_audio(const fs::path& file) {
  SF_INFO info{};
  SndFile f(sf_open(file.c_str(), SFM_READ, &info), sf_close);
  if (!f) {
    throw invalid_input(file.string(), std::string("not an audio file libsndfile can read (") +
                                           sf_strerror(nullptr) + "); use WAV, FLAC, Ogg or AIFF");
  }
  if (info.frames <= 0 || info.channels <= 0) throw invalid_input(file.string(), "the file holds no audio samples");
  if (log_says_truncated(f.get())) {
    throw invalid_input(file.string(), "truncated: the WAV header announces more audio than the file holds; "
                                       "copy or record the file again");
  }
  AudioClip clip;
  clip.rate = info.samplerate;
  clip.channels = info.channels;
  clip.is_wav_pcm16 = (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV &&
                      (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
  clip.samples.resize(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
  sf_count_t got = sf_readf_float(f.get(), clip.samples.data(), info.frames);
  if (got != info.frames) {
    throw invalid_input(file.string(), "truncated or damaged: read " + std::to_string(got) + " of " +
                                           std::to_string(info.frames) + " frames; copy or record the file again");
  }
  return clip;
}

AudioClip convert_audio(const AudioClip& clip, int rate, int channels) {
  AudioClip mixed;
  mixed.rate = clip.rate;
  mixed.channels = channels;
  std::size_t frames = clip.frames();
  mixed.samples.resize(frames * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < frames; ++i) {
    float mono = 0;
    for (int c = 0; c < clip.channels; ++c) mono += clip.samples[i * clip.channels + c];
    mono /= static_cast<float>(clip.channels);
    for (int c = 0; c < channels; ++c) {
      mixed.samples[i * channels + c] = clip.channels == channels ? clip.samples[i * channels + c] : mono;
    }
  }
  if (rate == clip.rate) return mixed;

  AudioClip out;
  out.rate = rate;
  out.channels = channels;
  double ratio = static_cast<double>(rate) / clip.rate;
  out.samples.resize(static_cast<std::size_t>(std::ceil(frames * ratio) + 16) * channels);
  SRC_DATA data{};
  data.data_in = mixed.samples.data();
  data.input_frames = static_cast<long>(frames);
  data.data_out = out.samples.data();
  data.output_frames = static_cast<long>(out.samples.size() / channels);
  data.src_ratio = ratio;
  int err = src_simple(&data, SRC_SINC_BEST_QUALITY, channels);
  if (err != 0) throw Error(ExitCode::internal, std::string("libsamplerate: ") + src_strerror(err));
  out.samples.resize(static_cast<std::size_t>(data.output_frames_gen) * channels);
  return out;
}

std::vector<std::uint8_t> encode_wav_pcm16(const AudioClip& clip) {
  std::vector<std::int16_t> pcm(clip.samples.size());
  std::transform(clip.samples.begin(), clip.samples.end(), pcm.begin(), to_int16);
  return encode_wav_pcm16(pcm.data(), clip.frames(), clip.rate, clip.channels);
}

std::vector<std::uint8_t> encode_wav_pcm16(const std::int16_t* pcm, std::size_t frames, int rate, int channels) {
  MemoryFile mem;
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndFile f(sf_open_virtual(&io, SFM_WRITE, &info, &mem), sf_close);
  if (!f) throw Error(ExitCode::internal, std::string("libsndfile: ") + sf_strerror(nullptr));
  sf_writef_short(f.get(), pcm, static_cast<sf_count_t>(frames));
  f.reset();
  return std::move(mem.bytes);
}

std::size_t count_full_scale_samples(const AudioClip& clip) {
  return static_cast<std::size_t>(std::count_if(clip.samples.begin(), clip.samples.end(), [](float v) {
    std::int16_t s = to_int16(v);
    return s >= 32767 || s <= -32768 || std::fabs(v) > 1.0f;
  }));
}

}  // namespace tml
