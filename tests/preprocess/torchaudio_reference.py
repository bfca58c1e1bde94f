#!/usr/bin/python3
"""Reference features from torchaudio for tests/preprocess/audio_features_test.cc.

Usage: torchaudio_reference.py JOB.json
JOB: {"runs": [{"config": {...tml AudioConfig fields...}, "clips": [{"in": raw float32 path, "out": path}]}]}
Each output is raw float32, frames x width, row-major — the same layout tml produces.

The documented mapping of tml's parameters to torchaudio (docs/preprocess.md):
- torchaudio.transforms.Spectrogram/MelSpectrogram/MFCC with n_fft=fft_size, win_length=frame_length,
  hop_length, center=False, window_fn=torch.hann_window or torch.hamming_window with periodic,
  power=2 (power) or 1 (magnitude), mel_scale, norm="slaney" for the Slaney scale, f_min, f_max;
- torch centres a window shorter than n_fft inside each n_fft frame, so the clip gets
  (fft_size - frame_length) / 2 zeros in front (and the rest of fft_size - frame_length behind):
  frame t then covers the same samples as tml's, and the frame counts agree;
- log(x + log_floor) (torchaudio's MFCC uses log(x + 1e-6) with log_mels=True);
- MFCC: torchaudio.functional.create_dct(n_mfcc, n_mels, "ortho"); pre-emphasis and liftering are
  applied here by hand (torchaudio 0.13 has neither in its transforms).
"""
import json
import sys

import numpy as np
import torch
import torchaudio

torch.set_num_threads(1)


def features(x, c):
    if c["pre_emphasis"] > 0:
        y = x.copy()
        y[1:] = x[1:] - c["pre_emphasis"] * x[:-1]
        x = y
    pad = (c["fft_size"] - c["frame_length"]) // 2
    tail = c["fft_size"] - c["frame_length"] - pad
    wave = torch.from_numpy(np.concatenate([np.zeros(pad, np.float32), x, np.zeros(tail, np.float32)]).astype(np.float32))
    window_fn = torch.hann_window if c["window"] == "hann" else torch.hamming_window
    common = dict(n_fft=c["fft_size"], win_length=c["frame_length"], hop_length=c["hop_length"], center=False,
                  window_fn=window_fn, wkwargs={"periodic": c["window_periodic"]},
                  power=2.0 if c["spectrum"] == "power" else 1.0)
    if c["kind"] == "spectrogram":
        spec = torchaudio.transforms.Spectrogram(**common)(wave)
        return torch.log(spec + c["log_floor"]).T.numpy()
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=c["sample_rate"], f_min=c["fmin"], f_max=c["fmax"], n_mels=c["mel_bands"],
        norm="slaney" if c["mel_scale"] == "slaney" else None, mel_scale=c["mel_scale"], **common)(wave)
    logmel = torch.log(mel + c["log_floor"])
    if c["kind"] == "logmel":
        return logmel.T.numpy()
    dct = torchaudio.functional.create_dct(c["mfcc_coeffs"], c["mel_bands"], "ortho")
    mfcc = torch.matmul(logmel.T, dct).numpy()
    if c["lifter"] > 0:
        k = np.arange(c["mfcc_coeffs"])
        mfcc = mfcc * (1 + c["lifter"] / 2 * np.sin(np.pi * k / c["lifter"]))
    if c["mean_normalize"]:
        mfcc = mfcc - mfcc.mean(axis=0, keepdims=True)
    return mfcc


def main():
    job = json.load(open(sys.argv[1]))
    for run in job["runs"]:
        for clip in run["clips"]:
            x = np.fromfile(clip["in"], dtype=np.float32)
            features(x, run["config"]).astype(np.float32).tofile(clip["out"])


if __name__ == "__main__":
    main()
