#!/usr/bin/env bash
# Plumbline against PyTorch on the CPU, same shapes and threads, runs alternating: the training step
# (`plumb bench train`, AdamW) and the DPO step with the reference cached on both sides (`plumb bench
# dpo`), against pipelines/llama-steps-pytorch.py. Prints each run's figures and load, the ratio
# plumb / PyTorch of each round, and the medians.
#
#   pipelines/bench-side-by-side.sh [ROUNDS] [CASE...]      (default 3 rounds, every case below)
# A case is STEP:PRESET:SEQUENCES:SEQ_LEN:STEPS, SEQUENCES the batch (train) or the pairs (dpo).
# STEP lora-dpo is one pair with LoRA (rank 8, alpha 16, all linear projections; reference = the base
# with the adapters off, cached on both sides): `plumb bench memory --mode lora-dpo` (SEQUENCES must be
# 1; its median step) against the script's `--step dpo --lora` (PEFT, installed into TORCH_PYTHON).
# PLUMB names the binary; TORCH_PYTHON a Python with torch (default /work/venv-perf/bin/python; make it
# with `python3 -m venv /work/venv-perf && /work/venv-perf/bin/pip install torch`). Neither is needed
# by the build or the tests. THREADS (default 2) is torch's thread count; plumb uses every core.
# Run plumb with OPENBLAS_CORETYPE set as run.sh sets it (the line before the table says which).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
shift || true
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(train:15m:8:256:3 dpo:15m:4:256:3 train:110m:4:256:2 dpo:110m:2:256:2)
plumb=${PLUMB:-$here/.build/release/plumb}
python=${TORCH_PYTHON:-/work/venv-perf/bin/python}
threads=${THREADS:-2}
[ -x "$plumb" ] || { echo "bench-side-by-side: no plumb binary at $plumb (swift build -c release)" >&2; exit 1; }
"$python" -c 'import torch' 2>/dev/null || { echo "bench-side-by-side: no torch in $python (set TORCH_PYTHON)" >&2; exit 1; }
field() { "$python" -c 'import json, sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
load() { cut -d' ' -f1 /proc/loadavg; }

declare -A plumb_rates torch_rates ratios
for ((i = 1; i <= rounds; i++)); do
    for c in "${cases[@]}"; do
        IFS=: read -r step preset n seq steps <<< "$c"
        if [ "$step" = train ]; then
            unit=tokens_per_second
            p_args=(bench train --preset "$preset" --batch-size "$n" --seq-len "$seq" --steps "$steps")
            t_args=(--step train --preset "$preset" --batch-size "$n" --seq-len "$seq" --steps "$steps")
        elif [ "$step" = lora-dpo ]; then
            unit=pairs_per_second
            p_args=(bench memory --preset "$preset" --mode lora-dpo --seq-len "$seq" --steps "$steps")
            t_args=(--step dpo --lora --preset "$preset" --pairs "$n" --seq-len "$seq" --prompt-length 64 --steps "$steps")
        else
            unit=pairs_per_second
            p_args=(bench dpo --preset "$preset" --pairs "$n" --seq-len "$seq" --prompt-length 64 --steps "$steps")
            t_args=(--step dpo --preset "$preset" --pairs "$n" --seq-len "$seq" --prompt-length 64 --steps "$steps")
        fi
        if [ "$step" = lora-dpo ]; then
            l1=$(load); p=$("$plumb" "${p_args[@]}" | field median_step_seconds | awk '{ printf "%.6f", 1 / $1 }')
        else
            l1=$(load); p=$("$plumb" "${p_args[@]}" | field "$unit")
        fi
        l2=$(load); t=$("$python" "$here/pipelines/llama-steps-pytorch.py" "${t_args[@]}" --threads "$threads" | field "$unit")
        r=$(awk -v p="$p" -v t="$t" 'BEGIN { printf "%.3f", p / t }')
        printf 'round %d %-24s plumb %10.3f  pytorch %10.3f  %s  ratio %s  (load %s, %s)\n' "$i" "$c" "$p" "$t" "$unit" "$r" "$l1" "$l2"
        plumb_rates[$c]+="$p "; torch_rates[$c]+="$t "; ratios[$c]+="$r "
    done
done
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset, OpenBLAS detects the CPU}; torch $("$python" -c 'import torch; print(torch.__version__)'); $threads torch threads; $(nproc) cores"
echo "| case (step:preset:sequences:seq_len:steps) | unit | plumb median | PyTorch median | ratio per round | ratio of medians |"
echo "|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
    unit=$([ "${c%%:*}" = train ] && echo tokens/s || echo pairs/s)
    # shellcheck disable=SC2086
    mp=$(median ${plumb_rates[$c]}); mt=$(median ${torch_rates[$c]})
    printf '| %s | %s | %.3f | %.3f | %s | %.2fx |\n' "$c" "$unit" "$mp" "$mt" "$(echo ${ratios[$c]} | sed 's/ / \/ /g')" \
        "$(awk -v p="$mp" -v t="$mt" 'BEGIN { print p / t }')"
done
