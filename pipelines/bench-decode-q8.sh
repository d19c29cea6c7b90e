#!/usr/bin/env bash
# Greedy decoding of one sequence on the 15M shape, alternated ROUNDS times in one run: plumb with
# 8-bit weights (`--weights q8`), plumb in fp32, and llama2.c's run.c (fp32), on the same llama2.c
# checkpoint; prints each round's tokens/s, the medians and plumb's ratios to run.c.
#
#   RUNC=/path/to/run RUNC_TOKENIZER=/path/to/tokenizer.bin pipelines/bench-decode-q8.sh [ROUNDS]   (default 7)
# run.c is not part of the project: fetch karpathy/llama2.c and build it with
# `gcc -Ofast -march=native -fopenmp run.c -o run -lm` (its tokenizer.bin is the 32000-piece one).
# The checkpoint (random weights of std 0.5, so the logits are spread and both decode the same tokens)
# is written once by plumb's llama2.c exporter to CHECKPOINT (default /tmp/spread15m.bin).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-7}
plumb=${PLUMB:-$here/.build/release/plumb}
runc=${RUNC:?set RUNC to a run.c binary}
tokenizer=${RUNC_TOKENIZER:?set RUNC_TOKENIZER to llama2.c tokenizer.bin}
checkpoint=${CHECKPOINT:-/tmp/spread15m.bin}
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
[ -f "$checkpoint" ] || "$plumb" bench decode --preset 15m --init-std 0.5 --new-tokens 4 --export-llama2c "$checkpoint" > /dev/null
rate() { python3 -c 'import json, sys; print(round(json.loads(sys.stdin.readline())["tokens_per_second"], 1))'; }
q8=(); f32=(); c=()
for ((i = 1; i <= rounds; i++)); do
    a=$("$plumb" bench decode --llama2c "$checkpoint" --weights q8 | rate)
    b=$("$plumb" bench decode --llama2c "$checkpoint" | rate)
    r=$("$runc" "$checkpoint" -z "$tokenizer" -t 0 -n 256 -i "" 2>&1 >/dev/null | sed -n 's/achieved tok\/s: //p')
    printf 'round %d: plumb q8 %s   plumb f32 %s   run.c %.1f tok/s   (load %s)\n' "$i" "$a" "$b" "$r" "$(cut -d' ' -f1 /proc/loadavg)"
    q8+=("$a"); f32+=("$b"); c+=("$r")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mq=$(median "${q8[@]}"); mf=$(median "${f32[@]}"); mc=$(median "${c[@]}")
ratios=$(for ((i = 0; i < rounds; i++)); do python3 -c "print(round(${q8[i]} / ${c[i]}, 2))"; done | tr '\n' ' ')
echo "median tok/s: plumb q8 $mq, plumb f32 $mf, run.c $mc; q8 / run.c $(python3 -c "print(round($mq / $mc, 2))"), f32 / run.c $(python3 -c "print(round($mf / $mc, 2))"); per-round q8 / run.c: $ratios"
