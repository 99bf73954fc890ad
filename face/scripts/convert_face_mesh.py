#!/usr/bin/env python3
"""Convert MediaPipe's face mesh (`face_landmark.tflite`) to ONNX with PyPI `tflite2onnx==0.4.1`.

Usage:
    python3 face/scripts/convert_face_mesh.py SRC.tflite OUT.onnx

tflite2onnx writes initializers and value_info in an order that depends on Python's string hashing,
so the conversion runs in a child Python with PYTHONHASHSEED=0 and both lists are then sorted by
name; the result is byte-identical between runs and checked against the sha256 recorded below
(made with the versions in face/scripts/requirements-mesh.txt).

Graph: input `input_1` float32 1x3x192x192, RGB in [0, 1], a square crop around the face (about
1.5x the detector box); outputs `conv2d_20` 1x1404x1x1 = 468 points (x, y, z) in crop pixels
(0..192) and `conv2d_30` 1x1x1x1 = face-presence logit.
"""

import hashlib
import os
import subprocess
import sys

SOURCE_SHA256 = "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493"
OUTPUT_SHA256 = "bb88a08bc2919b6fc2e9e808ba1627942694b29cde9ce688d85b8fb0fcf46623"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    got = sha256(src)
    if got != SOURCE_SHA256:
        sys.exit(f"{src}: sha256 {got}, expected {SOURCE_SHA256}")
    env = dict(os.environ, PYTHONHASHSEED="0")
    code = "import sys, tflite2onnx; tflite2onnx.convert(sys.argv[1], sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, src, out], check=True, env=env)
    import onnx

    model = onnx.load(out)
    for field in (model.graph.initializer, model.graph.value_info):
        items = sorted(field, key=lambda x: x.name)
        del field[:]
        field.extend(items)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    got = sha256(out)
    print(f"wrote {out} ({os.path.getsize(out)} B, sha256 {got})")
    if got != OUTPUT_SHA256:
        sys.exit(f"output sha256 {got} != recorded {OUTPUT_SHA256}")
    print("output sha256 matches the recorded value")


if __name__ == "__main__":
    main()
