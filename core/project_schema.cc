#include "core/project_schema.h"

namespace tml {

namespace {

using json = nlohmann::ordered_json;

Field integer(std::string key, json def, double min, double max, std::string doc) {
  Field f{.key = std::move(key), .type = FieldType::integer, .default_value = std::move(def)};
  f.min = min;
  f.max = max;
  f.doc = std::move(doc);
  return f;
}

Field power_of_two(std::string key, json def, double min, double max, std::string doc) {
  Field f = integer(std::move(key), std::move(def), min, max, std::move(doc));
  f.power_of_two = true;
  return f;
}

Field number(std::string key, json def, double min, double max, std::string doc) {
  Field f = integer(std::move(key), std::move(def), min, max, std::move(doc));
  f.type = FieldType::number;
  return f;
}

Field boolean(std::string key, bool def, std::string doc) {
  return Field{.key = std::move(key), .type = FieldType::boolean, .default_value = def, .doc = std::move(doc)};
}

Field choice(std::string key, json def, std::vector<std::string> choices, std::string doc) {
  return Field{.key = std::move(key), .type = FieldType::choice, .default_value = std::move(def),
               .choices = std::move(choices), .doc = std::move(doc)};
}

Field name(std::string key, std::string doc) {
  return Field{.key = std::move(key), .type = FieldType::name, .doc = std::move(doc)};
}

Field map(std::string key, std::vector<Field> children, std::string doc) {
  return Field{.key = std::move(key), .type = FieldType::map, .default_value = json::object(),
               .children = std::move(children), .doc = std::move(doc)};
}

Field sensor_map(const std::string& kind) {
  std::vector<Field> f = {choice("kind", nullptr, sensor_kinds(), "what the board samples")};
  if (kind == "audio") {
    f.push_back(integer("rate", 16000, 4000, 48000, "sample rate in Hz"));
    f.push_back(integer("channels", 1, 1, 2, "audio channels"));
    f.push_back(integer("window_ms", 1000, 100, 10000, "length of one sample (one classification window) in ms"));
  } else if (kind == "imu") {
    f.push_back(integer("rate", 100, 10, 10000, "sample rate in Hz (Nano 33 BLE LSM9DS1: 10..952)"));
    f.push_back(integer("channels", 3, 1, 9, "axes recorded (3: accelerometer x,y,z; 6 with gyroscope; 9 with magnetometer)"));
    f.push_back(integer("window_ms", 2000, 100, 60000, "length of one sample in ms"));
  } else {
    f.push_back(integer("width", 160, 16, 640, "frame width in pixels (OV7675: 160 or 320)"));
    f.push_back(integer("height", 120, 16, 480, "frame height in pixels (OV7675: 120 or 240)"));
    f.push_back(choice("pixel_format", "rgb565", {"rgb565", "yuv422", "rgb888", "grayscale"},
                       "pixel format the camera delivers"));
  }
  return map("sensor", std::move(f), "the board's sensor");
}

Field preprocess_map(const std::string& kind) {
  std::vector<Field> f;
  if (kind == "audio") {
    f = {
        choice("features", "mfcc", {"mfcc", "logmel", "spectrogram"}, "feature type"),
        number("frame_ms", 30, 1, 200, "analysis frame length in ms (a whole number of samples)"),
        number("hop_ms", 20, 1, 200, "step between frames in ms (a whole number of samples, at most frame_ms)"),
        power_of_two("fft_size", 512, 64, 1024, "FFT length (a power of two, at least the frame length in samples)"),
        choice("window", "hann", {"hann", "hamming"}, "window function"),
        boolean("window_periodic", true, "periodic (true, as torch.hann_window) or symmetric window"),
        number("pre_emphasis", 0.0, 0.0, 0.99, "pre-emphasis coefficient (0 disables)"),
        choice("spectrum", "power", {"power", "magnitude"}, "power or magnitude spectrum"),
        integer("mel_bands", 40, 1, 128, "mel filterbank size"),
        choice("mel_scale", "htk", {"htk", "slaney"}, "mel scale formula"),
        number("fmin", 20, 0, 24000, "lowest filterbank frequency in Hz"),
        number("fmax", 4000, 1, 24000, "highest filterbank frequency in Hz (at most rate / 2)"),
        number("log_floor", 1e-6, 1e-12, 1.0, "values below this are clamped before the logarithm"),
        integer("mfcc_coeffs", 10, 1, 128, "cepstral coefficients kept (mfcc only; at most mel_bands)"),
        integer("lifter", 0, 0, 100, "cepstral liftering coefficient (0 disables)"),
        boolean("mean_normalize", false, "subtract each coefficient's mean over the clip"),
    };
  } else if (kind == "imu") {
    f = {
        boolean("remove_mean", true, "subtract each axis' mean over the window (removes gravity)"),
        choice("filter", "none", {"none", "lowpass", "highpass"}, "IIR filter applied before the spectrum"),
        number("filter_cutoff_hz", 0, 0, 5000, "filter cut-off in Hz (required when filter is not none)"),
        integer("filter_order", 2, 1, 8, "filter order"),
        power_of_two("fft_size", 256, 16, 1024, "FFT length for the spectral features"),
        integer("spectral_bands", 8, 1, 64, "spectral power bands per axis"),
        choice("band_spacing", "linear", {"linear", "log"}, "how band edges are spaced from 0 to rate / 2"),
        boolean("rms", true, "include each axis' RMS"),
        integer("spectral_peaks", 3, 0, 16, "strongest peak frequencies per axis (0 disables)"),
    };
  } else {
    f = {
        integer("width", 96, 8, 320, "model input width in pixels"),
        integer("height", 96, 8, 320, "model input height in pixels"),
        choice("crop", "center", {"center", "letterbox", "none"}, "crop to the model's aspect ratio: centre crop, letterbox, or stretch"),
        choice("interpolation", "area", {"area", "bilinear"}, "resize interpolation"),
        choice("color", "grayscale", {"grayscale", "rgb"}, "model input colour"),
        choice("normalize", "int8", {"int8", "uint8", "float"}, "input value range"),
    };
  }
  return map("preprocess", std::move(f), "feature extraction, the same source on host and device");
}

Field model_map(const std::string& kind, const std::string& architecture) {
  std::vector<Field> f = {choice("architecture", architectures_for(kind).front(), architectures_for(kind),
                                 "network family (bundled trainers)")};
  if (architecture == "ds-cnn") {
    f.push_back(integer("filters", 64, 4, 512, "channels of every depthwise-separable block"));
    f.push_back(integer("blocks", 4, 1, 12, "depthwise-separable blocks"));
  } else if (architecture == "mobilenet-v1") {
    f.push_back(number("alpha", 0.25, 0.1, 1.0, "width multiplier"));
  } else if (architecture == "cnn" || architecture == "conv1d") {
    f.push_back(integer("filters", 16, 4, 512, "channels of the first convolution (doubled every block)"));
    f.push_back(integer("blocks", 3, 1, 8, "convolution blocks"));
  } else if (architecture == "dense") {
    Field hidden{.key = "hidden", .type = FieldType::integer_list, .default_value = {32, 16}};
    hidden.min = 1;
    hidden.max = 4096;
    hidden.min_items = 1;
    hidden.doc = "units of each hidden layer";
    f.push_back(hidden);
  }
  f.push_back(number("dropout", 0.2, 0.0, 0.9, "dropout rate before the classifier"));
  if (kind == "imu") {
    f.push_back(choice("anomaly_detector", "none", {"none", "autoencoder"},
                       "also train an autoencoder anomaly scorer on the features"));
  }
  return map("model", std::move(f), "the network");
}

}  // namespace

std::vector<std::string> sensor_kinds() { return {"audio", "imu", "camera"}; }

std::vector<std::string> architectures_for(const std::string& sensor_kind) {
  if (sensor_kind == "audio") return {"ds-cnn", "cnn"};
  if (sensor_kind == "imu") return {"dense", "conv1d"};
  return {"mobilenet-v1", "cnn"};
}

std::vector<Field> project_schema(const std::string& sensor_kind, const std::string& architecture) {
  Field labels{.key = "labels", .type = FieldType::name_list, .default_value = nullptr};
  labels.min_items = 1;
  labels.doc = "class names, also the dataset's folder names";

  Field command{.key = "command", .type = FieldType::text_list, .default_value = json::array()};
  command.doc = "trainer command and arguments when trainer is command";

  return {
      name("name", "project name"),
      sensor_map(sensor_kind),
      labels,
      map("dataset",
          {number("test_fraction", 0.2, 0.0, 0.9, "share of samples in the test split"),
           number("validation_fraction", 0.1, 0.0, 0.9, "share of samples in the validation split")},
          "how samples are split (a stable hash of each sample id)"),
      preprocess_map(sensor_kind),
      model_map(sensor_kind, architecture),
      map("train",
          {choice("trainer", "pytorch", {"pytorch", "command"}, "bundled PyTorch trainer or your own command"),
           command,
           integer("epochs", 30, 1, 10000, "maximum training epochs"),
           integer("batch", 64, 1, 65536, "batch size"),
           number("lr", 0.001, 1e-7, 10.0, "learning rate"),
           integer("seed", 1, 0, 2147483647, "random seed (same seed, same result)"),
           integer("threads", 0, 0, 256, "training threads (0: all cores)"),
           integer("early_stopping", 5, 0, 1000, "stop after this many epochs without validation improvement (0: never)"),
           boolean("augment", true, "data augmentation (time shift and noise, or flips and crops)")},
          "training"),
      map("quantize",
          {choice("type", "int8", {"int8"}, "quantization scheme (TFLite-compatible int8)"),
           boolean("per_channel", true, "per-channel weight scales"),
           integer("calibration_count", 200, 1, 100000, "training samples used to calibrate activation ranges"),
           number("max_accuracy_drop", 1.0, 0.0, 100.0, "warn when int8 accuracy drops more than this (points)")},
          "post-training quantization"),
      map("target", {choice("board", "qemu-m4", {"qemu-m4", "host", "nano33ble"}, "board to build firmware for")},
          "the device"),
  };
}

}  // namespace tml
