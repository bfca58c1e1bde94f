"""Data augmentation of the bundled trainer, on the feature arrays (the trainer never sees raw audio
or camera frames). Every random choice comes from the numpy Generator passed in, so the same job and
seed give the same batches.

- audio: random time shift by up to 10 % of the frames (the gap is filled with the quietest frame of
  the training set) and background-noise mixing: a random clip of a background class (_silence,
  _noise, _background, ...) is added in the power domain. For log-mel and spectrogram features that
  is exact up to the cross terms: log(exp(x) - floor + g * (exp(n) - floor) + floor). For MFCC the
  log-mel envelope is recovered through the transpose of the orthonormal DCT (its rows are
  orthonormal, so a zero gain gives the input back exactly), mixed the same way and projected back.
- camera: random horizontal flip and a random crop of a copy padded by 1/8 of the size (edge pixels).
- imu: Gaussian noise of 5 % of each feature's standard deviation.
"""
import math

import numpy as np

BACKGROUND_NAMES = {"silence", "noise", "background", "background_noise", "bg", "unknown_noise"}


def is_background_label(name):
    return name.lower().strip("_") in BACKGROUND_NAMES


def ortho_dct(n_mfcc, n_mels):
    """The K x M matrix D with c = D @ logmel (torchaudio.functional.create_dct(K, M, 'ortho').T)."""
    m = np.arange(n_mels, dtype=np.float64)
    k = np.arange(n_mfcc, dtype=np.float64)[:, None]
    d = np.cos(math.pi / n_mels * (m + 0.5) * k) * math.sqrt(2.0 / n_mels)
    d[0] *= 1.0 / math.sqrt(2.0)
    return d


class AudioAugment:
    def __init__(self, preprocess, x_train, y_train, labels):
        """x_train: {N, T, F} features as tml preprocess wrote them."""
        self.kind = preprocess.get("features", "mfcc")
        self.floor = float(preprocess.get("log_floor", 1e-6))
        t = x_train.shape[1]
        self.max_shift = max(1, int(round(0.1 * t)))
        frames = x_train.reshape(-1, x_train.shape[2])
        key = frames[:, 0] if self.kind == "mfcc" else frames.mean(axis=1)
        self.quiet_frame = frames[int(np.argmin(key))].copy() if len(frames) else np.zeros(x_train.shape[2])
        background = [i for i, name in enumerate(labels) if is_background_label(name)]
        self.noise = x_train[np.isin(y_train, background)] if background else x_train[:0]
        self.max_gain = 0.3  # amplitude; power gain up to 0.09
        self.dct = None
        self.lifter = None
        if self.kind == "mfcc":
            if preprocess.get("mean_normalize", False):
                self.noise = x_train[:0]  # the clip mean is gone: the envelope cannot be recovered
            else:
                k = x_train.shape[2]
                self.dct = ortho_dct(k, int(preprocess.get("mel_bands", 40)))
                lifter = int(preprocess.get("lifter", 0))
                if lifter > 0:
                    self.lifter = 1.0 + lifter / 2.0 * np.sin(math.pi * np.arange(k) / lifter)

    def describe(self):
        parts = [f"time shift up to {self.max_shift} frames"]
        if len(self.noise):
            parts.append(f"background mixing from {len(self.noise)} clips")
        return ", ".join(parts)

    def _to_power(self, x):
        if self.dct is not None:
            c = x / self.lifter if self.lifter is not None else x
            x = c @ self.dct
        return np.maximum(np.exp(x) - self.floor, 0.0)

    def _from_power(self, p):
        x = np.log(p + self.floor)
        if self.dct is not None:
            x = x @ self.dct.T
            if self.lifter is not None:
                x = x * self.lifter
        return x

    def __call__(self, x, rng):
        """x: {B, 1, T, F} float32 model input; returns an augmented copy."""
        out = x.copy()
        b, _, t, _ = x.shape
        for i in range(b):
            sample = out[i, 0]
            if rng.random() < 0.8:
                s = int(rng.integers(-self.max_shift, self.max_shift + 1))
                if s:
                    shifted = np.empty_like(sample)
                    shifted[:] = self.quiet_frame
                    if s > 0:
                        shifted[s:] = sample[:t - s]
                    else:
                        shifted[:t + s] = sample[-s:]
                    sample = shifted
            if len(self.noise) and rng.random() < 0.8:
                n = self.noise[int(rng.integers(len(self.noise)))]
                n = np.roll(n, int(rng.integers(t)), axis=0)
                g = float(rng.uniform(0.0, self.max_gain)) ** 2
                sample = self._from_power(self._to_power(sample.astype(np.float64)) +
                                          g * self._to_power(n.astype(np.float64)))
            out[i, 0] = sample
        return out.astype(np.float32)


class ImageAugment:
    def __init__(self, shape):
        _, h, w = shape
        self.pad = max(1, min(h, w) // 8)

    def describe(self):
        return f"horizontal flips, crops of {self.pad}-pixel padded copies"

    def __call__(self, x, rng):
        """x: {B, C, H, W} float32."""
        out = np.empty_like(x)
        b, _, h, w = x.shape
        p = self.pad
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
        for i in range(b):
            dy, dx = int(rng.integers(0, 2 * p + 1)), int(rng.integers(0, 2 * p + 1))
            img = padded[i, :, dy:dy + h, dx:dx + w]
            if rng.random() < 0.5:
                img = img[:, :, ::-1]
            out[i] = img
        return out


class ImuAugment:
    def __init__(self, x_train):
        std = x_train.std(axis=0) if len(x_train) else np.ones(x_train.shape[1:])
        self.sigma = (0.05 * std).astype(np.float32)

    def describe(self):
        return "Gaussian noise of 5% of each feature's spread"

    def __call__(self, x, rng):
        return (x + rng.standard_normal(x.shape).astype(np.float32) * self.sigma).astype(np.float32)


def make_augment(sensor, preprocess, x_train, y_train, labels, model_shape):
    """x_train in the feature layout ({N,T,F} audio, {N,H,W,C} camera, {N,F} imu)."""
    if sensor == "audio":
        return AudioAugment(preprocess, x_train.astype(np.float32), y_train, labels)
    if sensor == "camera":
        return ImageAugment(model_shape)
    return ImuAugment(x_train.astype(np.float32))
