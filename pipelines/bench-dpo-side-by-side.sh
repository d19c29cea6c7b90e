#!/usr/bin/env bash
# `plumb bench dpo --preset 15m` and the same DPO step in PyTorch (llama-steps-pytorch.py --step dpo: reference
# forward under no_grad each step, and cached), alternated ROUNDS times on the same machine; prints
# each run's pairs/s, the median of each, and Plumbline's ratio to each PyTorch setting.
#
#   pipelines/bench-dpo-side-by-side.sh [ROUNDS]   (default 3)
# PLUMB names the binary; TORCH_PYTHON a Python with torch (default /tmp/torchenv/bin/python; make it
# with `python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch`). Neither Python nor
# torch is needed by the build or the tests. OpenBLAS picks its kernels by CPU model; where it does
# not know the model it falls back to old ones (here: "Prescott", SSE3 only, on an AVX-512 Xeon), and
# OPENBLAS_CORETYPE (e.g. SkylakeX) names the kernels instead. The line before the table says which.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
plumb=${PLUMB:-$here/.build/release/plumb}
python=${TORCH_PYTHON:-/tmp/torchenv/bin/python}
[ -x "$plumb" ] || (cd "$here" && swift build -c release --product plumb)
"$python" -c 'import torch' 2>/dev/null || { echo "bench-dpo-side-by-side: no torch in $python (set TORCH_PYTHON)" >&2; exit 1; }
field() { "$python" -c 'import json, sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }
plumb_rates=(); ref_rates=(); cached_rates=()
for ((i = 1; i <= rounds; i++)); do
    p=$("$plumb" bench dpo --preset 15m --pairs 4 --seq-len 256 --prompt-length 64 --steps 3 | field pairs_per_second)
    torch_step=("$python" "$here/pipelines/llama-steps-pytorch.py" --step dpo --preset 15m --pairs 4 --seq-len 256 --prompt-length 64 --steps 3 --threads 2)
    r=$("${torch_step[@]}" --reference forward | field pairs_per_second)
    c=$("${torch_step[@]}" --reference cached | field pairs_per_second)
    printf 'round %d: plumb %.3f pairs/s   pytorch with reference forward %.3f   pytorch cached %.3f   (load %s)\n' \
        "$i" "$p" "$r" "$c" "$(cut -d' ' -f1 /proc/loadavg)"
    plumb_rates+=("$p"); ref_rates+=("$r"); cached_rates+=("$c")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset, OpenBLAS detects the CPU}; torch $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
mp=$(median "${plumb_rates[@]}"); mr=$(median "${ref_rates[@]}"); mc=$(median "${cached_rates[@]}")
echo "| | pairs/s (median of $rounds) | Plumbline / this |"
echo "|---|---|---|"
awk -v p="$mp" -v r="$mr" -v c="$mc" 'BEGIN {
    printf "| plumb bench dpo (reference cached) | %.3f | 1 |\n", p
    printf "| PyTorch, reference forward under no_grad | %.3f | %.2fx |\n", r, p / r
    printf "| PyTorch, reference cached | %.3f | %.2fx |\n", c, p / c }'
