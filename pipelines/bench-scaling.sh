#!/usr/bin/env bash
# Threads and processes at the 15m shape, runs alternating (each round starts one configuration
# later), ratios per round and of the medians:
#   train  `plumb bench train` (batch 8 x 256, AdamW) on 1 core and on 2 cores;
#   sample `plumb bench sample` (8 prompts x 8 samples, 256 new tokens) on 1 core and on 2 cores;
#   mpi    the same training step as 2 MPI ranks x 1 core (`plumb bench allreduce`: each rank
#          trains 4 of the 8 rows while the other does, plus the median allreduce of the gradient
#          arena) against 1 process x 2 cores (the train-2 run of the same round).
# Plumbline sizes its threads from the cores the process may use (EngineThreads.cores: OpenBLAS's
# threads and the decoding/row pool), so "1 core" is `taskset -c 0` (OPENBLAS_NUM_THREADS is set to
# match, but the engine sets OpenBLAS's count itself); each run's JSON `threads` field says what the
# engine saw. MPI ranks are bound one per core (`--bind-to core`).
#
#   pipelines/bench-scaling.sh [ROUNDS]        (default 3)
# PLUMB names the binary (default .build/release/plumb). Run with OPENBLAS_CORETYPE set as run.sh
# sets it. Needs mpirun (openmpi-bin) for the mpi case; without it that case is skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
plumb=${PLUMB:-$here/.build/release/plumb}
[ -x "$plumb" ] || { echo "bench-scaling: no plumb binary at $plumb (swift build -c release)" >&2; exit 1; }
field() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
load() { cut -d' ' -f1 /proc/loadavg; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
has_mpi=1
command -v mpirun >/dev/null 2>&1 || { has_mpi=0; echo "bench-scaling: no mpirun; the mpi case is skipped" >&2; }

train_args=(bench train --preset 15m --batch-size 8 --seq-len 256 --steps 3)
sample_args=(bench sample --preset 15m --prompts 8 --samples 8 --new-tokens 256)
# run CONFIG: prints "tokens_per_second threads" of one run.
run() {
    local out
    case "$1" in
    train1) out=$(OPENBLAS_NUM_THREADS=1 taskset -c 0 "$plumb" "${train_args[@]}") ;;
    train2) out=$(OPENBLAS_NUM_THREADS=2 taskset -c 0,1 "$plumb" "${train_args[@]}") ;;
    sample1) out=$(OPENBLAS_NUM_THREADS=1 taskset -c 0 "$plumb" "${sample_args[@]}") ;;
    sample2) out=$(OPENBLAS_NUM_THREADS=2 taskset -c 0,1 "$plumb" "${sample_args[@]}") ;;
    mpi)
        out=$(OPENBLAS_NUM_THREADS=1 mpirun "${root[@]}" --oversubscribe --bind-to core -np 2 -x OPENBLAS_NUM_THREADS -x OPENBLAS_CORETYPE \
            "$plumb" bench allreduce --preset 15m --batch-size 8 --seq-len 256 --steps 3 --repetitions 10)
        local step
        step=$(awk -v c="$(echo "$out" | field step_compute_seconds)" -v a="$(echo "$out" | field allreduce_seconds_median)" 'BEGIN { print c + a }')
        echo "$(awk -v s="$step" 'BEGIN { printf "%.3f", 8 * 256 / s }') $(echo "$out" | field threads)"
        return ;;
    esac
    echo "$(echo "$out" | field tokens_per_second) $(echo "$out" | field threads)"
}

configs=(train1 train2 sample1 sample2)
[ "$has_mpi" -eq 1 ] && configs+=(mpi)
declare -A rates
for ((i = 0; i < rounds; i++)); do
    declare -A this=()
    for ((j = 0; j < ${#configs[@]}; j++)); do
        c=${configs[$(((i + j) % ${#configs[@]}))]}
        l=$(load)
        read -r rate threads <<< "$(run "$c")"
        printf 'round %d %-8s %10.1f tokens/s  threads %s  (load %s)\n' "$((i + 1))" "$c" "$rate" "$threads" "$l"
        rate=$(printf "%.1f" "$rate"); this[$c]=$rate; rates[$c]+="$rate "
    done
    line="round $((i + 1)) ratios: train 2/1 $(ratio "${this[train2]}" "${this[train1]}"), sample 2/1 $(ratio "${this[sample2]}" "${this[sample1]}")"
    [ "$has_mpi" -eq 1 ] && line+=", train 2 ranks x 1 / 1 rank x 2 $(ratio "${this[mpi]}" "${this[train2]}")"
    echo "$line"
done
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(nproc) cores; load now $(load)"
echo "| configuration | tokens/s per round | median |"
echo "|---|---|---|"
for c in "${configs[@]}"; do
    # shellcheck disable=SC2086
    printf '| %s | %s | %.1f |\n' "$c" "$(echo ${rates[$c]} | sed 's/ / \/ /g')" "$(median ${rates[$c]})"
done
# shellcheck disable=SC2086
{
    echo "ratio of medians: train 2 cores / 1 core $(ratio "$(median ${rates[train2]})" "$(median ${rates[train1]})")," \
        "sample 2 cores / 1 core $(ratio "$(median ${rates[sample2]})" "$(median ${rates[sample1]})")"
    [ "$has_mpi" -eq 1 ] && echo "ratio of medians: train 2 ranks x 1 core / 1 rank x 2 cores $(ratio "$(median ${rates[mpi]})" "$(median ${rates[train2]})")"
} || true
