#!/usr/bin/python3
"""Peer for bench/preprocess_bench: torchaudio's MFCC on one thread, with the parameters that match
the voice-control template (tests/preprocess/torchaudio_reference.py documents the mapping).
Usage: torchaudio_mfcc_peer.py CLIP.f32 SECONDS  ->  prints {"clips_per_second": N}"""
import json
import sys
import time

import numpy as np
import torch
import torchaudio

torch.set_num_threads(1)
x = torch.from_numpy(np.concatenate([np.zeros(16, np.float32), np.fromfile(sys.argv[1], np.float32),
                                     np.zeros(16, np.float32)]))
mfcc = torchaudio.transforms.MFCC(
    sample_rate=16000, n_mfcc=10, log_mels=True,
    melkwargs=dict(n_fft=512, win_length=480, hop_length=320, center=False, f_min=20.0, f_max=4000.0, n_mels=40,
                   mel_scale="htk", window_fn=torch.hann_window, power=2.0))
for _ in range(20):
    mfcc(x)
budget = float(sys.argv[2])
count, start = 0, time.perf_counter()
while time.perf_counter() - start < budget:
    mfcc(x)
    count += 1
print(json.dumps({"clips_per_second": count / (time.perf_counter() - start)}))
