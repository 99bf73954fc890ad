#!/usr/bin/env python3
"""Convert dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`) to ONNX.

No dlib needed: the `.dat` is read directly (format facts: shared reference face-check.md §3.3)
and the network of dlib's `dnn_face_recognition_ex.cpp` is rebuilt with the `onnx` helper API.

Usage:
    python3 face/scripts/convert_dlib_resnet.py SRC.dat OUT.onnx [--check-embeddings FILE.json]

Only PyPI `numpy` and `onnx` are needed (see face/scripts/requirements.txt). The output is
deterministic; it is verified against the sha256 recorded below, so a changed script or source
file is noticed. `--check-embeddings` additionally runs the ONNX with `onnxruntime` (if installed)
on the chips named in the JSON file and compares with dlib's own embeddings recorded there.

Graph input  `chip`: float32 1×3×150×150, RGB, raw 0–255 (the dlib mean/256 scaling is inside).
Graph output `embedding`: float32 1×128, not normalised; compare with Euclidean distance.
"""

import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SOURCE_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
# sha256 of the ONNX file this script writes (onnx 1.x helper API, opset 13, IR 8).
OUTPUT_SHA256 = "b55e2a4363ab6de54d17e7f5c72484cebf89b910af99f9737bd10839d72582ff"

# dlib input_rgb_image_sized<150>: (pixel - mean) / 256
MEAN_RGB = (122.782, 117.001, 104.298)


class DatReader:
    """dlib serialisation: packed ints, length-prefixed strings, version-2 tensors."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def packed_int(self) -> int:
        head = self.data[self.pos]
        self.pos += 1
        size = head & 0x0F
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        self.pos += size
        return -value if head & 0x80 else value

    def tensor(self) -> np.ndarray:
        version = self.packed_int()
        if version != 2:
            raise ValueError(f"tensor version {version} at {self.pos}, expected 2")
        n, k, nr, nc = (self.packed_int() for _ in range(4))
        count = n * k * nr * nc
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return values.astype(np.float32)


def find_tags(data: bytes, tag: str) -> list:
    """Offsets just after each serialised occurrence of `tag` (packed length 1 byte + ASCII)."""
    needle = bytes([0x01, len(tag)]) + tag.encode()
    out, start = [], 0
    while True:
        i = data.find(needle, start)
        if i < 0:
            return out
        out.append(i + len(needle))
        start = i + 1


def read_params(data: bytes):
    convs, affines = [], []
    for off in find_tags(data, "con_4"):
        r = DatReader(data)
        r.pos = off
        params = r.tensor()
        # after the params: num_filters, nr, nc, stride_y, stride_x, padding_y, padding_x
        meta = [r.packed_int() for _ in range(7)]
        convs.append((params, meta))
    for off in find_tags(data, "affine_"):
        r = DatReader(data)
        r.pos = off
        affines.append(r.tensor())
    fcs = find_tags(data, "fc_2")
    if len(fcs) != 1:
        raise ValueError(f"expected one fc_2 layer, found {len(fcs)}")
    r = DatReader(data)
    r.pos = fcs[0]
    n_out, n_in = r.packed_int(), r.packed_int()
    fc = r.tensor().reshape(n_in, n_out)  # output = input · matrix
    for name, got, want in (("con_4", len(convs), 29), ("affine_", len(affines), 29)):
        if got != want:
            raise ValueError(f"{name}: found {got} layers, expected {want}")
    return convs, affines, fc


class Builder:
    def __init__(self, convs, affines):
        self.convs = list(convs)
        self.affines = list(affines)
        self.nodes, self.inits = [], []
        self.n = 0

    def name(self, prefix):
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, prefix, array):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, shape, c_in, c_out, k, stride):
        params, meta = self.convs.pop(0)
        n_f, nr, nc, sy, sx, py, px = meta
        want = (c_out, k, k, stride, stride)
        if (n_f, nr, nc, sy, sx) != want:
            raise ValueError(f"conv metadata {meta} does not match the architecture {want}")
        pad = 0 if stride != 1 else k // 2
        if (py, px) != (pad, pad):
            raise ValueError(f"conv padding {(py, px)}, architecture says {pad}")
        n_w = c_out * c_in * k * k
        if params.size != n_w + c_out:
            raise ValueError(f"conv params {params.size} != {n_w} + {c_out}")
        w = self.const("w", params[:n_w].reshape(c_out, c_in, k, k))
        b = self.const("b", params[n_w:])
        y = self.node(
            "Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4
        )
        size = (shape - k + 2 * pad) // stride + 1
        return y, size

    def affine(self, x, c):
        p = self.affines.pop(0)
        if p.size != 2 * c:
            raise ValueError(f"affine params {p.size} != 2×{c}")
        g = self.const("gamma", p[:c].reshape(1, c, 1, 1))
        b = self.const("beta", p[c:].reshape(1, c, 1, 1))
        return self.node("Add", [self.node("Mul", [x, g]), b])

    def relu(self, x):
        return self.node("Relu", [x])

    def pad_to(self, x, c, size, c_to, size_to):
        """dlib add_prev: the smaller tensor is zero-padded at the end (channels, bottom, right)."""
        if (c, size) == (c_to, size_to):
            return x
        pads = self.const("pads", np.array([0, 0, 0, 0, 0, c_to - c, size_to - size, size_to - size], dtype=np.int64))
        return self.node("Pad", [x, pads], mode="constant")

    def block(self, x, size, c_in, c_out, stride):
        y, s = self.conv(x, size, c_in, c_out, 3, stride)
        y = self.relu(self.affine(y, c_out))
        y, s = self.conv(y, s, c_out, c_out, 3, 1)
        return self.affine(y, c_out), s

    def ares(self, x, size, c):
        y, s = self.block(x, size, c, c, 1)
        return self.relu(self.node("Add", [y, x])), s

    def ares_down(self, x, size, c_in, c_out):
        y, s_block = self.block(x, size, c_in, c_out, 2)
        short = self.node("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
        s_short = (size - 2) // 2 + 1
        s = max(s_block, s_short)
        y = self.pad_to(y, c_out, s_block, c_out, s)
        short = self.pad_to(short, c_in, s_short, c_out, s)
        return self.relu(self.node("Add", [short, y])), s


def build(convs, affines, fc):
    b = Builder(convs, affines)
    mean = b.const("mean", np.array(MEAN_RGB, dtype=np.float32).reshape(1, 3, 1, 1))
    scale = b.const("scale", np.array(1.0 / 256.0, dtype=np.float32))
    x = b.node("Mul", [b.node("Sub", ["chip", mean]), scale])
    x, s = b.conv(x, 150, 3, 32, 7, 2)
    x = b.relu(b.affine(x, 32))
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    s = (s - 3) // 2 + 1
    c = 32
    for _ in range(3):
        x, s = b.ares(x, s, 32)
    for c_out, n in ((64, 3), (128, 2), (256, 2)):
        x, s = b.ares_down(x, s, c, c_out)
        c = c_out
        for _ in range(n):
            x, s = b.ares(x, s, c)
    x, s = b.ares_down(x, s, c, 256)
    if s != 2 or b.convs or b.affines:
        raise ValueError(f"architecture mismatch: final size {s}, {len(b.convs)} convs left")
    x = b.node("GlobalAveragePool", [x])
    x = b.node("Flatten", [x], axis=1)
    w = b.const("fc", fc)
    b.nodes.append(helper.make_node("MatMul", [x, w], ["embedding"], name="fc"))
    graph = helper.make_graph(
        b.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, [1, 3, 150, 150])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 128])],
        b.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="kiosk-face convert_dlib_resnet.py",
        producer_version="1",
    )
    model.ir_version = 8
    model.doc_string = (
        "dlib_face_recognition_resnet_model_v1 (Davis E. King, CC0 1.0) converted to ONNX. "
        "Input chip: 1x3x150x150 RGB 0..255; output: 128-d embedding, Euclidean distance."
    )
    onnx.checker.check_model(model)
    return model


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_embeddings(onnx_path, json_path):
    import onnxruntime as ort  # optional, only for this check
    from PIL import Image  # optional, only for this check

    ref = json.load(open(json_path))
    base = os.path.dirname(os.path.abspath(json_path))
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    worst = 0.0
    for item in ref["embeddings"]:
        img = np.asarray(Image.open(os.path.join(base, item["image"])).convert("RGB"), dtype=np.float32)
        x = img.transpose(2, 0, 1)[None]
        got = sess.run(None, {"chip": x})[0][0]
        diff = float(np.abs(got - np.array(item["embedding"], dtype=np.float32)).max())
        worst = max(worst, diff)
        print(f"  {item['image']}: max |onnx - dlib| = {diff:.2e}")
    if worst > 1e-4:
        sys.exit(f"embedding check FAILED: max difference {worst:.2e} > 1e-4")
    print(f"embedding check OK ({len(ref['embeddings'])} chips, max difference {worst:.2e})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--check-embeddings", metavar="JSON")
    ap.add_argument("--no-verify", action="store_true", help="skip the output sha256 check")
    args = ap.parse_args()

    got = sha256(args.src)
    if got != SOURCE_SHA256:
        sys.exit(f"{args.src}: sha256 {got}, expected {SOURCE_SHA256}")
    data = open(args.src, "rb").read()
    convs, affines, fc = read_params(data)
    model = build(convs, affines, fc)
    onnx.save(model, args.out)
    out_sha = sha256(args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} B, sha256 {out_sha})")
    if not args.no_verify:
        if out_sha != OUTPUT_SHA256:
            sys.exit(f"output sha256 {out_sha} != recorded {OUTPUT_SHA256}")
        print("output sha256 matches the recorded value")
    if args.check_embeddings:
        check_embeddings(args.out, args.check_embeddings)


if __name__ == "__main__":
    main()
