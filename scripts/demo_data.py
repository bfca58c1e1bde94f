#!/usr/bin/python3
"""Demo datasets for tml's three templates, written as OUT/<label>/<files> for `tml import`.

    /usr/bin/python3 scripts/demo_data.py voice-control OUT [--seed 1] [--scale 1.0] [--shared DIR]
    /usr/bin/python3 scripts/demo_data.py maintenance   OUT ...
    /usr/bin/python3 scripts/demo_data.py wildlife      OUT ...

Then: tml new p --template T --dir P && tml -C P import OUT/<label> ... (one folder per label; the
folder names are the labels of projects/T.yaml). The same --seed and --scale always write the same
files, byte for byte. --scale multiplies the number of samples per label (1.0 = the counts below,
0.25 for quick tests; at least one sample per label). --shared is the shared data folder
(default: ../shared/data beside the repository). Needs Debian's python3-numpy, python3-skimage (with
python3-pil and python-matplotlib-data), espeak-ng and sox; all are installed by scripts/setup.sh.
docs/demo-data.md says the same for users.

voice-control (16 kHz mono WAV, 1 s; labels yes, no, _silence, _unknown)
    Synthetic speech over real noise. yes 130, no 130 and _unknown 150 clips (33 other words, none
    that sounds like "yes" or "no") are spoken by espeak-ng with random voice (8 English accents x
    15 variants), speed 110-220 wpm and pitch 20-80, resampled to 16 kHz by sox, trimmed, normalised
    to a random peak 0.3-0.9 and put at a random offset in one second. _silence: 60 clips of the real
    Speech Commands silence (30 %) or nothing, at random gain. Every clip gets the real Speech Commands
    background noise (random circular shift, gain 0-0.5) plus white noise. Added at every scale: the
    real Speech Commands yes/no recordings, as they are and 3 times each with background noise.
    Spoken clips are named VOICE_nohash_N.wav (VOICE = accent+variant, e.g. en-us+f2), as Speech
    Commands names its speakers' clips: imported with --group-pattern '^(.+)_nohash_', every voice
    lands in one split, so the test split's voices are held out from training.

maintenance (IMU CSV, 952 Hz, 3 columns: acceleration x, y, z in g, 1904 rows = 2 s; labels
normal, imbalance, bearing_fault; 80 takes per label)
    A SIMULATION: no public vibration data set is available offline, so the takes come from a
    physical model of a motor on a test rig, not from a sensor. The model: a vertical motor (a pump
    motor, say) with the sensor on its housing: x and y are radial, z is along the shaft and along
    gravity. Per take:
      shaft rate   f_r ~ U(20, 40) Hz (1200-2400 rpm), with a slow speed wobble of +-0.2 %;
                   rotation angle theta(t) = 2 pi integral f_r dt
      gravity      z = 1 g, tilted by up to 3 degrees in a random direction (x, y get sin(tilt))
      mounting     per-axis gain U(0.85, 1.15) on the vibration and radial anisotropy a ~ U(0.7, 1) (below)
      1x           imbalance force F = m e (2 pi f_r)^2, so the 1x amplitude is A1 = u * (f_r/30)^2 g,
                   radial and rotating: x = A1 cos(theta + p), y = a A1 sin(theta + p), z = 0.1 A1 cos
                   normal: u ~ U(0.005, 0.03) (residual unbalance after balancing)
                   imbalance: u ~ U(0.08, 0.35) (an added or lost mass)
      2x           residual misalignment / looseness, A2 ~ U(0.003, 0.012) g (imbalance: U(0.005, 0.02))
      blade pass   a fan with n_b ~ {5, 6, 7} blades: A ~ U(0.002, 0.01) g at n_b f_r, mostly axial (z)
      electrical   magnetic pull at twice the 50 Hz mains: 100 Hz, U(0.001, 0.005) g
      machine      broadband: white noise low-passed at ~150 Hz, 0.003-0.008 g rms
      sensor       zero-g offset U(-0.03, 0.03) g per axis, white noise 0.004 g rms per axis (roughly
                   the LSM9DS1's noise at this bandwidth), quantised to 0.122 mg per count (+-4 g)
    misalignment = normal plus a misaligned coupling: 2x radial M2 = U(0.04, 0.15) (f_r/30)^2 g (larger
        than 1x), 3x at 0.2-0.4 M2, and axial (z) vibration at 2x (0.5-1 M2) and 1x (0.3-0.8 M2), as
        angular misalignment shows.
    bearing_fault = normal plus an outer-race defect: the rolling elements strike the defect at
        BPFO = (n/2) f_r (1 - (d/D) cos(phi)), n = 9 balls, d/D = 0.3, contact angle phi = 0
             = 3.15 f_r (63-126 Hz),
    with up to +-2 % random slip between impacts (the elements roll, they are not geared). Each impact
    rings a structural resonance of the housing, f_n ~ U(300, 400) Hz (the classic 2-4 kHz bearing
    resonance lies above the 476 Hz Nyquist limit of a 952 Hz accelerometer), damping ratio
    zeta ~ U(0.04, 0.1): h(t) = exp(-2 pi zeta f_n t) sin(2 pi f_n sqrt(1 - zeta^2) t), t >= 0.
    Impact amplitude B ~ U(0.05, 0.4) g, +-20 % per impact, modulated by the once-per-revolution
    load swing of the residual imbalance: B_k (1 + m cos(theta(t_k))), m ~ U(0.2, 0.6). Impacts act
    along a random mostly-radial direction (z gets 0.2-0.4 of it).
    Weak points: one fault type (outer race), one resonance, no transfer path through a real
    structure, no load changes, no run-up or coast-down, no temperature or sensor drift. A model
    trained on it learns these formulas, not a real machine.

wildlife (PNG 160 x 120 RGB, the OV7675's QQVGA; labels animal, empty, person; 100 per label)
    REAL PHOTOS, but a WEAK STAND-IN for camera-trap pictures: there are only a few offline photos of
    animals, none of them from a camera trap. Every take is a random crop (containing the subject)
    of one of these images, resized to 160 x 120, flipped at random, with brightness, contrast, gamma
    and colour-balance jitter, sometimes blur or conversion to grey ("night mode"), sensor noise, and
    rounded to RGB565 as the OV7675 delivers it (the percentages are each source's chance per take):
      animal  skimage.data.chelsea() (a cat's face, colour, 40 %); the giraffe photo in
              ../shared/data/images/no_person.bmp (Visual Wake Words / COCO, 96 x 96 grey, 40 %);
              skimage.data.horse() (a binary horse silhouette, filled with a brown coat colour and
              drawn onto a crop of the camera() field (y 150-328), grass() or gravel(), 20 %: a
              composite, not a photo)
      person  skimage.data.lfw_subset() faces (100 LFW faces, 25 x 25 grey, the full width, 35 %);
              skimage.data.astronaut() (20 %), skimage.data.camera() (the cameraman, grey, 15 %),
              matplotlib's sample grace_hopper.jpg (15 %), ../shared/data/images/person.bmp
              (Visual Wake Words, 96 x 96 grey, 15 %)
      empty   skimage.data.rocket() (a launch pad at dusk, no one in view, 25 %); the right part of
              skimage.data.camera() (grass and buildings beside the cameraman, x >= 336, y < 328,
              25 %); skimage.data.grass() (15 %), gravel() (10 %), brick() (10 %) textures;
              skimage.data.lfw_subset() non-face patches (100 patches of natural images, 25 x 25
              grey, 15 %)
    Weak points: 1-5 source pictures per class, so a model can learn the pictures rather than
    "animal" or "person"; subjects are large and centred (camera traps see small, partial,
    night-time subjects); the 25 x 25 and 96 x 96 sources are blurry after upscaling.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
import wave

import numpy as np

TEMPLATES = ("voice-control", "maintenance", "wildlife")


def scaled(n, scale):
    return max(1, int(round(n * scale)))


# ------------------------------------------------------------------------------------------------
# voice-control: moved from tests/train_bridge/acceptance_test.cc; at scale 1.0 it writes exactly
# what that test's embedded generator wrote (same random draws in the same order).

def voice_control(out, shared, seed, scale):
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

    # A clip's file is VOICE_nohash_N.wav (Speech Commands' naming): `tml import --group-pattern
    # '^(.+)_nohash_'` keeps each voice in one split, so the test split's voices are never trained on.
    def speak(word, folder, name):
        v = voices[rng.integers(len(voices))] + "+" + variants[rng.integers(len(variants))]
        path = os.path.join(folder, f"{v}_nohash_{name}.wav")
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
    counts = {label: scaled(n, scale) for label, n in counts.items()}
    # Other words (none that sounds like "yes" or "no"), as Speech Commands' unknown class.
    unknown_words = ["go", "stop", "left", "right", "up", "down", "on", "off", "seven", "bird", "house", "tree",
                     "wow", "happy", "cat", "dog", "bed", "marvin", "sheila", "nine", "four", "learn", "follow",
                     "visual", "zero", "one", "two", "three", "five", "six", "eight", "forward", "backward"]
    for label, n in counts.items():
        d = os.path.join(out, label); os.makedirs(d, exist_ok=True)
        for i in range(n):
            p = os.path.join(d, f"{label.strip('_')}_{i:03d}.wav")
            if label in ("yes", "no"):
                speak(label, d, f"{label}_{i:03d}")
            elif label == "_unknown":
                speak(unknown_words[rng.integers(len(unknown_words))], d, f"unknown_{i:03d}")
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


# ------------------------------------------------------------------------------------------------
# maintenance: simulated vibration of a motor (see the docstring at the top for the model).

IMU_RATE = 952          # Hz, projects/maintenance.yaml sensor.rate
IMU_ROWS = 1904         # rate * window_ms / 1000 = 952 * 2.0
G_PER_COUNT = 0.122e-3  # LSM9DS1, +-4 g range


def simulate_take(rng, label):
    fs, n = IMU_RATE, IMU_ROWS
    t = np.arange(n) / fs
    # Shaft: rate and a slow wobble; the rotation angle is the integral of the rate.
    f_r = rng.uniform(20.0, 40.0)
    wobble = 1.0 + 0.002 * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t + rng.uniform(0, 2 * np.pi))
    theta = 2 * np.pi * np.cumsum(f_r * wobble) / fs + rng.uniform(0, 2 * np.pi)
    acc = np.zeros((n, 3))
    aniso = rng.uniform(0.7, 1.0)
    # 1x: centrifugal force of the unbalance, m e omega^2, rotating in the radial (x, y) plane.
    u = rng.uniform(0.08, 0.35) if label == "imbalance" else rng.uniform(0.005, 0.03)
    a1, p1 = u * (f_r / 30.0) ** 2, rng.uniform(0, 2 * np.pi)
    acc[:, 0] += a1 * np.cos(theta + p1)
    acc[:, 1] += aniso * a1 * np.sin(theta + p1)
    acc[:, 2] += 0.1 * a1 * np.cos(theta + p1 + rng.uniform(0, 2 * np.pi))
    # 2x: misalignment and looseness.
    a2 = rng.uniform(0.005, 0.02) if label == "imbalance" else rng.uniform(0.003, 0.012)
    p2 = rng.uniform(0, 2 * np.pi)
    acc[:, 0] += a2 * np.cos(2 * theta + p2)
    acc[:, 1] += aniso * a2 * np.sin(2 * theta + p2)
    acc[:, 2] += 0.3 * a2 * np.cos(2 * theta + rng.uniform(0, 2 * np.pi))
    if label == "misalignment":
        # A misaligned coupling bends the shaft twice per turn: a strong 2x (larger than 1x), some
        # 3x, and (angular misalignment) axial vibration at 1x and 2x.
        m2 = rng.uniform(0.04, 0.15) * (f_r / 30.0) ** 2
        pm = rng.uniform(0, 2 * np.pi, size=4)
        acc[:, 0] += m2 * np.cos(2 * theta + pm[0])
        acc[:, 1] += aniso * m2 * np.sin(2 * theta + pm[0])
        acc[:, 0] += rng.uniform(0.2, 0.4) * m2 * np.cos(3 * theta + pm[1])
        acc[:, 2] += rng.uniform(0.5, 1.0) * m2 * np.cos(2 * theta + pm[2])
        acc[:, 2] += rng.uniform(0.3, 0.8) * m2 * np.cos(theta + pm[3])
    # Blade pass of the cooling fan, mostly axial.
    blades, ab = int(rng.integers(5, 8)), rng.uniform(0.002, 0.01)
    pb = rng.uniform(0, 2 * np.pi, size=3)
    acc += ab * np.stack([0.3 * np.cos(blades * theta + pb[0]), 0.3 * np.cos(blades * theta + pb[1]),
                          np.cos(blades * theta + pb[2])], axis=1)
    # Twice the mains frequency: magnetic pull in the motor.
    ae = rng.uniform(0.001, 0.005)
    acc += ae * np.cos(2 * np.pi * 100.0 * t[:, None] + rng.uniform(0, 2 * np.pi, size=3))
    # Broadband machine noise (flow, friction): white noise through a moving average (~150 Hz).
    k = 3
    white = rng.normal(size=(n + k - 1, 3))
    broad = np.stack([np.convolve(white[:, c], np.ones(k) / k, mode="valid") for c in range(3)], axis=1)
    acc += broad / broad.std() * rng.uniform(0.003, 0.008)
    if label == "bearing_fault":
        # Outer-race defect: impacts at BPFO, each ringing a damped structural resonance.
        balls, d_over_D, phi = 9, 0.3, 0.0
        bpfo = balls / 2 * f_r * (1 - d_over_D * math.cos(phi))
        f_n, zeta = rng.uniform(300, 400), rng.uniform(0.04, 0.1)
        sigma, f_d = 2 * np.pi * zeta * f_n, f_n * math.sqrt(1 - zeta ** 2)
        amp, mod = rng.uniform(0.05, 0.4), rng.uniform(0.2, 0.6)
        radial = rng.uniform(0, 2 * np.pi)
        direction = np.array([np.cos(radial), np.sin(radial), rng.uniform(0.2, 0.4)])
        ring = np.zeros(n)
        tk = rng.uniform(-1 / bpfo, 0)  # the impact before the window rings into it
        while tk < t[-1]:
            dt = t - tk
            on = dt >= 0
            # The load swing of the rotating unbalance modulates the impact strength once per turn.
            angle = np.interp(tk, t, theta) if tk >= 0 else theta[0] + 2 * np.pi * f_r * tk
            b = amp * rng.uniform(0.8, 1.2) * (1 + mod * np.cos(angle))
            ring[on] += b * np.exp(-sigma * dt[on]) * np.sin(2 * np.pi * f_d * dt[on])
            tk += (1 / bpfo) * (1 + rng.uniform(-0.02, 0.02))  # slip: up to +-2 % jitter of the spacing
        acc += ring[:, None] * direction
    acc *= rng.uniform(0.85, 1.15, size=3)  # mounting: the path to each axis differs
    # Gravity along z, with a small tilt of the mounting, and the sensor's zero-g offset.
    tilt, azimuth = np.radians(rng.uniform(0, 3)), rng.uniform(0, 2 * np.pi)
    acc += [np.sin(tilt) * np.cos(azimuth), np.sin(tilt) * np.sin(azimuth), np.cos(tilt)]
    acc += rng.uniform(-0.03, 0.03, size=3)
    acc += rng.normal(scale=0.004, size=acc.shape)  # sensor noise
    return np.round(acc / G_PER_COUNT) * G_PER_COUNT


def maintenance(out, shared, seed, scale):
    rng = np.random.default_rng(seed)
    for label in ("normal", "imbalance", "bearing_fault", "misalignment"):
        d = os.path.join(out, label)
        os.makedirs(d, exist_ok=True)
        for i in range(scaled(80, scale)):
            acc = simulate_take(rng, label)
            lines = ["ax_g,ay_g,az_g"] + ["%.5f,%.5f,%.5f" % tuple(r) for r in acc]
            with open(os.path.join(d, f"{label}_{i:03d}.csv"), "w") as f:
                f.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------------
# wildlife: real photos (see the docstring at the top), cropped and jittered to 160 x 120.

CAM_W, CAM_H = 160, 120


def wildlife(out, shared, seed, scale):
    from PIL import Image, ImageFilter
    from skimage import data as skd

    rng = np.random.default_rng(seed)

    def rgb(a):
        a = np.asarray(a)
        if a.dtype == bool: a = a.astype(np.uint8) * 255
        if a.dtype != np.uint8: a = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
        if a.ndim == 2: a = np.stack([a] * 3, axis=2)
        return a[:, :, :3]

    def load(path):
        if not os.path.exists(path):
            sys.exit(f"demo_data.py: {path} is missing (see --shared, and scripts/setup.sh for packages)")
        return rgb(Image.open(path).convert("RGB"))

    lfw = skd.lfw_subset()  # 100 faces, then 100 non-faces, 25 x 25 in [0, 1]
    camera = rgb(skd.camera())
    # Sources: (image, subject box x0, y0, x1, y1 that every crop contains, or None for any crop).
    animal = [
        (0.4, [(rgb(skd.chelsea()), (110, 60, 350, 280))]),
        (0.4, [(load(os.path.join(shared, "images/no_person.bmp")), (52, 14, 88, 86))]),
        (0.2, "horse"),
    ]
    person = [
        (0.35, [(rgb(f), (0, 3, 25, 22)) for f in lfw[:100]]),  # the whole face, full width
        (0.20, [(rgb(skd.astronaut()), (150, 10, 310, 300))]),
        (0.15, [(camera, (120, 60, 330, 260))]),
        (0.15, [(load("/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"), (130, 40, 390, 330))]),
        (0.15, [(load(os.path.join(shared, "images/person.bmp")), (32, 10, 78, 70))]),
    ]
    empty = [
        (0.25, [(rgb(skd.rocket()), None)]),
        (0.25, [(camera[:328, 336:], None)]),
        (0.15, [(rgb(skd.grass()), None)]),
        (0.10, [(rgb(skd.gravel()), None)]),
        (0.10, [(rgb(skd.brick()), None)]),
        (0.15, [(rgb(f), None) for f in lfw[100:]]),
    ]
    backgrounds = [camera[150:328, 336:], rgb(skd.grass()), rgb(skd.gravel())]  # ground for the horse
    horse = ~np.asarray(skd.horse())  # True on the horse

    def crop(img, box):
        h, w = img.shape[:2]
        max_w = min(w, h * 4 / 3)
        min_w = max_w * 0.5
        if box is not None:
            bw, bh = box[2] - box[0], box[3] - box[1]
            min_w = min(max_w, max(bw, bh * 4 / 3))
        cw = rng.uniform(min_w, max_w)
        ch = cw * 3 / 4
        if box is None:
            x0, y0 = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
        else:
            # The crop holds the box (or is centred on it where it cannot hold it).
            lo_x, hi_x = max(0, box[2] - cw), min(box[0], w - cw)
            lo_y, hi_y = max(0, box[3] - ch), min(box[1], h - ch)
            x0 = rng.uniform(lo_x, hi_x) if hi_x > lo_x else min(max(0, (box[0] + box[2] - cw) / 2), w - cw)
            y0 = rng.uniform(lo_y, hi_y) if hi_y > lo_y else min(max(0, (box[1] + box[3] - ch) / 2), h - ch)
        return Image.fromarray(img).resize((CAM_W, CAM_H), Image.BILINEAR,
                                           box=(x0, y0, x0 + cw, y0 + ch))

    def horse_scene():
        bg = backgrounds[rng.integers(len(backgrounds))]
        frame = np.asarray(crop(bg, None)).astype(np.float32)
        hw = int(rng.uniform(0.4, 0.8) * CAM_W)
        hh = int(hw * horse.shape[0] / horse.shape[1])
        mask = np.asarray(Image.fromarray(horse.astype(np.uint8) * 255).resize((hw, hh), Image.BILINEAR),
                          dtype=np.float32) / 255
        if rng.random() < 0.5: mask = mask[:, ::-1]
        x0 = int(rng.integers(0, CAM_W - hw + 1))
        y0 = int(rng.integers(max(0, CAM_H - hh - 30), CAM_H - hh // 2 + 1))  # standing low in the frame
        mask = mask[:CAM_H - y0]
        coat = np.array([rng.uniform(40, 110), rng.uniform(25, 70), rng.uniform(10, 40)], dtype=np.float32)
        coat = coat[None, None, :] * rng.uniform(0.85, 1.15, size=(mask.shape[0], mask.shape[1], 1))
        region = frame[y0:y0 + mask.shape[0], x0:x0 + hw]
        region[:] = region * (1 - mask[:, :, None]) + coat * mask[:, :, None]
        return Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))

    def take(sources):
        weights = np.array([w for w, _ in sources])
        src = sources[rng.choice(len(sources), p=weights / weights.sum())][1]
        if src == "horse":
            im = horse_scene()
        else:
            img, box = src[rng.integers(len(src))]
            im = crop(img, box)
        if rng.random() < 0.5: im = im.transpose(Image.FLIP_LEFT_RIGHT)
        if rng.random() < 0.2: im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
        a = np.asarray(im).astype(np.float32) / 255
        if rng.random() < 0.15: a = np.repeat(a.mean(axis=2, keepdims=True), 3, axis=2)  # night mode
        a = a ** rng.uniform(0.7, 1.4)                                  # gamma
        a = (a - 0.5) * rng.uniform(0.7, 1.3) + 0.5                     # contrast
        a = a * rng.uniform(0.6, 1.3) * rng.uniform(0.9, 1.1, size=3)   # exposure and white balance
        a = a * 255 + rng.normal(scale=rng.uniform(1, 6), size=a.shape)  # sensor noise
        a = np.clip(np.round(a), 0, 255).astype(np.uint8)
        a = a & np.array([0xF8, 0xFC, 0xF8], dtype=np.uint8)            # RGB565: 5, 6, 5 bits
        return Image.fromarray(a)

    for label, sources in (("animal", animal), ("empty", empty), ("person", person)):
        d = os.path.join(out, label)
        os.makedirs(d, exist_ok=True)
        for i in range(scaled(100, scale)):
            take(sources).save(os.path.join(d, f"{label}_{i:03d}.png"), optimize=False)


def main():
    ap = argparse.ArgumentParser(description="Write a demo dataset OUT/<label>/<files> for a tml template.")
    ap.add_argument("template", choices=TEMPLATES)
    ap.add_argument("out", help="output folder (one subfolder per label)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1); same seed, same files")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the samples per label (default 1.0)")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(here, "..", "..", "shared", "data")),
                    help="the shared data folder (default: ../shared/data beside the repository)")
    args = ap.parse_args()
    if args.scale <= 0:
        ap.error("--scale must be positive")
    t0 = time.monotonic()
    {"voice-control": voice_control, "maintenance": maintenance, "wildlife": wildlife}[args.template](
        args.out, args.shared, args.seed, args.scale)
    counts = {d: len(os.listdir(os.path.join(args.out, d))) for d in sorted(os.listdir(args.out))
              if os.path.isdir(os.path.join(args.out, d))}
    print(f"{args.template}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) +
          f" files in {args.out} ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
