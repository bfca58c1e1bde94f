"""ONNX export of the bundled trainer: opset 13, eval mode, input "input" with a dynamic batch axis,
output "output" (class probabilities: the Softmax is part of the graph) or "score" (anomaly scorer).

torch.onnx.export needs no onnx package; when python3-onnx is installed the file is also checked
with onnx.checker and its operators are compared with what tml's importer supports.
"""
import torch
from torch import nn

OPSET = 13

# What tml's ONNX importer supports (docs/train-bridge.md); train_bridge/onnx_check.cc has the same list.
SUPPORTED_OPS = {
    "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "AveragePool", "MaxPool",
    "GlobalAveragePool", "Add", "Mul", "Concat", "Pad", "Reshape", "Flatten", "Softmax", "Sigmoid", "Tanh",
}


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.net(x))


def export(module, input_shape, path, output_name="output"):
    """Writes `module` (already in its export form) as ONNX to `path`; returns the operator types."""
    module = module.eval()
    dummy = torch.zeros((1,) + tuple(input_shape), dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(
            module, dummy, path,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
            input_names=["input"],
            output_names=[output_name],
            dynamic_axes={"input": {0: "batch"}, output_name: {0: "batch"}},
        )
    hoist_constants(path)
    return check(path)


# --- Constant nodes -> initializers, on the protobuf wire format (no onnx package needed) ---------
# torch emits the Clip bounds and Reshape shapes as Constant nodes; tml's importer reads constants
# from graph initializers, so each `Constant(value=t) -> out` becomes initializer t named `out`.

def _varint(buf, pos):
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _encode_varint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(buf):
    """(field number, wire type, value bytes or int, raw bytes of the whole field) for one message."""
    pos, out = 0, []
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, wire, value, buf[start:pos]))
    return out


def _bytes_field(number, payload):
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _hoist_graph(graph):
    kept, initializers = [], []
    for number, wire, value, raw in _fields(graph):
        if number == 1 and wire == 2:  # NodeProto
            node = _fields(value)
            op = [v for n, w, v, _ in node if n == 4]
            outputs = [v for n, w, v, _ in node if n == 2]
            attrs = [_fields(v) for n, w, v, _ in node if n == 5]
            if op == [b"Constant"] and len(outputs) == 1 and len(attrs) == 1:
                attr = attrs[0]
                names = [v for n, w, v, _ in attr if n == 1]
                tensors = [v for n, w, v, _ in attr if n == 5]
                if names == [b"value"] and len(tensors) == 1:
                    # TensorProto.name is field 8; a repeated singular field: the last one wins.
                    initializers.append(_bytes_field(5, bytes(tensors[0]) + _bytes_field(8, bytes(outputs[0]))))
                    continue
        kept.append(raw)
    return b"".join(kept) + b"".join(initializers), len(initializers)


def hoist_constants(path):
    with open(path, "rb") as f:
        model = f.read()
    parts, hoisted = [], 0
    for number, wire, value, raw in _fields(model):
        if number == 7 and wire == 2:  # ModelProto.graph
            graph, hoisted = _hoist_graph(value)
            parts.append(_bytes_field(7, graph))
        else:
            parts.append(raw)
    if hoisted:
        with open(path, "wb") as f:
            f.write(b"".join(parts))
    return hoisted


def check(path):
    """onnx.checker + operator list when python3-onnx is there; else an empty list."""
    try:
        import onnx
    except ImportError:
        return []
    model = onnx.load(path)
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    unsupported = [op for op in ops if op not in SUPPORTED_OPS]
    if unsupported:
        raise RuntimeError(f"the exported model uses operators tml cannot import: {', '.join(unsupported)}")
    return ops
