#pragma once
// Audio files through libsndfile (any format it reads), resampling through libsamplerate, and
// PCM-16 WAV encoding: how audio enters the dataset store.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace tml {

struct AudioClip {
  int rate = 0;
  int channels = 0;
  bool is_wav_pcm16 = false;    // the file was already a 16-bit PCM WAV
  std::vector<float> samples;  // interleaved, full scale ±1
  std::size_t frames() const { return channels ? samples.size() / static_cast<std::size_t>(channels) : 0; }
};

// Decodes the whole file. Throws tml::Error(invalid_input) naming the file when libsndfile cannot
// read it, it holds no samples, or it is shorter than its header says (a truncated copy).
AudioClip read_audio(const std::filesystem::path& file);

// Converts to RATE and CHANNELS (downmix by averaging, upmix by copying) with libsamplerate's
// best sinc converter.
AudioClip convert_audio(const AudioClip& clip, int rate, int channels);

// A 16-bit PCM WAV of the clip; counts samples that had to be clipped to the int16 range or sit
// at full scale.
std::vector<std::uint8_t> encode_wav_pcm16(const AudioClip& clip);
// The same from int16 samples as they are (interleaved), e.g. a take captured from a board.
std::vector<std::uint8_t> encode_wav_pcm16(const std::int16_t* pcm, std::size_t frames, int rate, int channels);
std::size_t count_full_scale_samples(const AudioClip& clip);

}  // namespace tml
