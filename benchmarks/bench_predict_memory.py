"""Peak memory and time of ``wsss predict`` on one photo of 1, 6 and 24 megapixels (CPU).

Each size runs in a fresh process (peak RSS is per process), with ``--max-side`` at its default and,
for comparison, off (0) where that fits the machine. The photo is synthetic (smooth colour fields with
noise, JPEG): memory and time do not depend on content. Needs a segmentation model file, e.g. the demo's
models/seg_seam.pt (``dvc repro train_seg@seam``).

    python benchmarks/bench_predict_memory.py models/seg_seam.pt [--sizes 1,6,24] [--full-up-to 6]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ASPECT = 1.5   # 3:2, a camera's


def synthetic_photo(path: Path, megapixels: float) -> tuple[int, int]:
    h = int(round((megapixels * 1e6 / ASPECT) ** 0.5))
    w = int(round(h * ASPECT))
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (max(2, h // 200), max(2, w // 200), 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    image.save(path, quality=90)
    return w, h


def run_once(model: str, photo: Path, out: Path, max_side: int) -> tuple[float, float, int]:
    """(seconds, peak RSS in GB, exit code) of one predict process."""
    command = [sys.executable, "-m", "wsss.cli", "predict", model, str(photo), "--out", str(out),
               "--device", "cpu", "--max-side", str(max_side)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss   # the largest child so far
    if result.returncode:
        print(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed", file=sys.stderr)
    return seconds, peak_kb / 1e6, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--sizes", default="1,6,24", help="megapixels, comma-separated")
    parser.add_argument("--full-up-to", type=float, default=6, help="also run --max-side 0 up to this many MP")
    args = parser.parse_args()
    print(f"device: CPU, {os.cpu_count()} cores; model {args.model}")
    print(f"{'photo':>16} {'max_side':>9} {'seconds':>8} {'peak GB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for mp in (float(v) for v in args.sizes.split(",")):
            photo = Path(tmp) / f"photo_{mp:g}mp.jpg"
            w, h = synthetic_photo(photo, mp)
            settings = [2048] + ([0] if mp <= args.full_up_to else [])
            for max_side in settings:
                # ru_maxrss of children is a running maximum: each run goes in its own wrapper process.
                wrapper = [sys.executable, __file__, "--one", args.model, str(photo), str(max_side)]
                line = subprocess.run(wrapper, capture_output=True, text=True).stdout.strip()
                print(f"{f'{w}x{h} ({mp:g} MP)':>16} {max_side:>9} {line}")


def one() -> None:
    model, photo, max_side = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    with tempfile.TemporaryDirectory() as out:
        seconds, peak, code = run_once(model, photo, Path(out), max_side)
    print(f"{seconds:8.1f} {peak:8.2f}" + ("" if code == 0 else f"  (exit {code})"))


if __name__ == "__main__":
    one() if len(sys.argv) > 1 and sys.argv[1] == "--one" else main()
