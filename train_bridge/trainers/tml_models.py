"""Networks of the bundled trainer (train_bridge/trainers/tml_trainer.py).

Every model takes the model input as documented in docs/train-bridge.md ({N,1,T,F} for audio,
{N,C,H,W} for images, {N,F} for IMU features) and returns logits; the exporter appends the
Softmax. Only layers that export to the ONNX ops tml's importer supports are used: Conv (groups for
depthwise), Gemm, BatchNormalization, Relu, Clip(0,6), MaxPool, GlobalAveragePool, Add, Mul,
Reshape/Flatten, Softmax. Everything is 4-D (NCHW) inside; IMU 1-D convolutions are 1xK Conv2d.
"""
import torch
from torch import nn


def conv_bn_relu(cin, cout, kernel, stride=1, padding=0, groups=1, relu6=False):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6() if relu6 else nn.ReLU(),
    )


class Head(nn.Module):
    """Dropout, global average pooling, flatten, fully connected: GlobalAveragePool + Flatten + Gemm."""

    def __init__(self, channels, classes, dropout):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = torch.flatten(self.pool(x), 1)
        return self.fc(self.dropout(x))


class DSCNN(nn.Module):
    """Depthwise-separable CNN for keyword spotting (Zhang et al., "Hello Edge"; MLPerf Tiny KWS).

    Input {N,1,T,F} (49x10 MFCC): per-coefficient standardisation (Mul + Add), a 10x4 stride-2 convolution, `blocks` depthwise 3x3 + pointwise
    1x1 blocks of `filters` channels, global average pooling, one fully connected layer.
    """

    def __init__(self, input_shape, classes, filters=64, blocks=4, dropout=0.2):
        super().__init__()
        _, t, f = input_shape
        self.standardize = Standardize(f, rank=4)
        kt, kf = min(10, t), min(4, f)
        layers = [conv_bn_relu(1, filters, (kt, kf), stride=(2 if t >= 4 else 1, 2 if f >= 4 else 1),
                               padding=(kt // 2, (kf - 1) // 2))]
        for _ in range(blocks):
            layers.append(conv_bn_relu(filters, filters, 3, padding=1, groups=filters))  # depthwise
            layers.append(conv_bn_relu(filters, filters, 1))  # pointwise
        self.features = nn.Sequential(*layers)
        self.head = Head(filters, classes, dropout)

    def forward(self, x):
        return self.head(self.features(self.standardize(x)))


class PlainCNN(nn.Module):
    """Conv 3x3 + BN + ReLU + MaxPool blocks, channels doubling from `filters`, for audio or images.
    Audio input ({N,1,T,F}) is standardised per coefficient first, as in DSCNN."""

    def __init__(self, input_shape, classes, filters=16, blocks=3, dropout=0.2, audio=False):
        super().__init__()
        c, h, w = input_shape
        self.standardize = Standardize(w, rank=4) if audio else None
        layers, cin = [], c
        for i in range(blocks):
            cout = filters * (2 ** i)
            layers.append(conv_bn_relu(cin, cout, 3, padding=1))
            kh, kw = (2 if h >= 2 else 1), (2 if w >= 2 else 1)
            if kh > 1 or kw > 1:
                layers.append(nn.MaxPool2d((kh, kw)))
                h, w = h // kh, w // kw
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = Head(cin, classes, dropout)

    def forward(self, x):
        if self.standardize is not None:
            x = self.standardize(x)
        return self.head(self.features(x))


class MobileNetV1(nn.Module):
    """MobileNetV1 (Howard et al. 2017) with width multiplier alpha, ReLU6 (exported as Clip(0,6)).

    With alpha 0.25 on a 96x96 gray image this is the Visual Wake Words person detector's shape.
    Stages whose input is already 1 pixel high or wide keep stride 1.
    """

    CONFIG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, input_shape, classes, alpha=0.25, dropout=0.1):
        super().__init__()
        c, h, w = input_shape

        def ch(n):
            return max(8, int(n * alpha + 4) // 8 * 8)

        def stride_for(s):
            nonlocal h, w
            if s == 2 and h >= 2 and w >= 2:
                h, w = (h + 1) // 2, (w + 1) // 2
                return 2
            return 1

        cin = ch(32)
        layers = [conv_bn_relu(c, cin, 3, stride=stride_for(2), padding=1, relu6=True)]
        for cout, s in self.CONFIG:
            cout = ch(cout)
            layers.append(conv_bn_relu(cin, cin, 3, stride=stride_for(s), padding=1, groups=cin, relu6=True))
            layers.append(conv_bn_relu(cin, cout, 1, relu6=True))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = Head(cin, classes, dropout)

    def forward(self, x):
        return self.head(self.features(x))


class Standardize(nn.Module):
    """Per-feature (x - mean) / std as Mul + Add with constant tensors fitted on the training data.

    The statistics are taken over every axis but the last: {F} for IMU features {N,F}, {1,1,1,F} for
    audio {N,1,T,F} (one mean and spread per MFCC coefficient / mel band — the first coefficient's
    range dwarfs the others'). ONNX: Mul and Add with broadcasting constants.
    """

    def __init__(self, features, rank=2):
        super().__init__()
        shape = (features,) if rank == 2 else (1,) * (rank - 1) + (features,)
        self.register_buffer("scale", torch.ones(shape))
        self.register_buffer("shift", torch.zeros(shape))

    def fit(self, x):
        flat = x.reshape(-1, x.shape[-1])
        mean = flat.mean(axis=0)
        std = flat.std(axis=0)
        std[std < 1e-6] = 1.0
        self.scale.copy_(torch.as_tensor(1.0 / std, dtype=torch.float32).reshape(self.scale.shape))
        self.shift.copy_(torch.as_tensor(-mean / std, dtype=torch.float32).reshape(self.shift.shape))

    def forward(self, x):
        return x * self.scale + self.shift


class DenseNet(nn.Module):
    """IMU features {N,F}: standardisation, hidden Gemm + ReLU layers, Gemm classifier.

    For export the standardisation is folded into the first Gemm (`folded()`), so the ONNX graph is
    Gemm/Relu only.
    """

    def __init__(self, input_shape, classes, hidden=(32, 16), dropout=0.1):
        super().__init__()
        (f,) = input_shape
        self.standardize = Standardize(f)
        layers, cin = [], f
        for units in hidden:
            layers += [nn.Linear(cin, units), nn.ReLU()]
            cin = units
        layers += [nn.Dropout(dropout), nn.Linear(cin, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(self.standardize(x))

    def folded(self):
        """An equivalent plain Sequential with the standardisation inside the first Linear."""
        import copy
        net = copy.deepcopy(self.net)
        first = net[0]
        with torch.no_grad():
            scale, shift = self.standardize.scale, self.standardize.shift
            first.bias.add_(first.weight @ shift)
            first.weight.mul_(scale.unsqueeze(0))
        return net


class Conv1dNet(nn.Module):
    """IMU features {N,F}: standardisation (Mul + Add), Reshape to {N,1,1,F}, 1xK convolution blocks
    (Conv + BN + ReLU + MaxPool 1x2, channels doubling), global average pooling, Gemm."""

    def __init__(self, input_shape, classes, filters=16, blocks=3, dropout=0.1):
        super().__init__()
        (f,) = input_shape
        self.features_count = f
        self.standardize = Standardize(f)
        layers, cin, width = [], 1, f
        for i in range(blocks):
            cout = filters * (2 ** i)
            layers.append(conv_bn_relu(cin, cout, (1, 3), padding=(0, 1)))
            if width >= 2:
                layers.append(nn.MaxPool2d((1, 2)))
                width //= 2
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = Head(cin, classes, dropout)

    def forward(self, x):
        x = self.standardize(x).reshape(-1, 1, 1, self.features_count)
        return self.head(self.features(x))


class Autoencoder(nn.Module):
    """Anomaly scorer for IMU features: standardise, F -> 2h -> h -> 2h -> F, and the score is the mean
    squared reconstruction error. `scorer()` returns the export graph (Mul, Add, Gemm, Relu, MatMul)
    whose output {N,1} is that score."""

    def __init__(self, features, hidden=8):
        super().__init__()
        self.standardize = Standardize(features)
        self.net = nn.Sequential(
            nn.Linear(features, 2 * hidden), nn.ReLU(),
            nn.Linear(2 * hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * hidden), nn.ReLU(),
            nn.Linear(2 * hidden, features))

    def forward(self, x):
        z = self.standardize(x)
        return self.net(z), z

    def score(self, x):
        recon, z = self(x)
        return ((recon - z) ** 2).mean(dim=1, keepdim=True)

    def scorer(self):
        return _AutoencoderScore(self)


class _AutoencoderScore(nn.Module):
    def __init__(self, ae):
        super().__init__()
        self.ae = ae
        f = ae.standardize.scale.numel()
        self.register_buffer("mean_weights", torch.full((f, 1), 1.0 / f))
        self.register_buffer("minus_one", torch.tensor(-1.0))

    def forward(self, x):
        recon, z = self.ae(x)
        d = recon + z * self.minus_one  # Add + Mul: no Sub in tml's importer
        return torch.matmul(d * d, self.mean_weights)


def build_model(spec, sensor, input_shape, classes):
    """The network for model spec `spec` (tml.yaml's model section) and the model input shape."""
    arch = spec.get("architecture")
    dropout = float(spec.get("dropout", 0.2))
    if sensor == "audio" and arch == "ds-cnn":
        return DSCNN(input_shape, classes, int(spec.get("filters", 64)), int(spec.get("blocks", 4)), dropout)
    if arch == "cnn" and sensor in ("audio", "camera"):
        return PlainCNN(input_shape, classes, int(spec.get("filters", 16)), int(spec.get("blocks", 3)), dropout,
                        audio=sensor == "audio")
    if sensor == "camera" and arch == "mobilenet-v1":
        return MobileNetV1(input_shape, classes, float(spec.get("alpha", 0.25)), dropout)
    if sensor == "imu" and arch == "dense":
        return DenseNet(input_shape, classes, [int(u) for u in spec.get("hidden", [32, 16])], dropout)
    if sensor == "imu" and arch == "conv1d":
        return Conv1dNet(input_shape, classes, int(spec.get("filters", 16)), int(spec.get("blocks", 3)), dropout)
    raise ValueError(f"model.architecture '{arch}' is not one the bundled trainer has for a {sensor} sensor")
