#!/usr/bin/env bash
# Kills `plumb pipeline run` with SIGKILL at random moments and runs it again each time, until the
# pipeline completes; then compares every stage's output checksum (pipeline-stage.json) with an
# uninterrupted run's. Prints each kill (the stage it hit) and a summary; exits 1 on any difference.
# Usage: pipelines/kill-pipeline.sh [WORK]
#   PLUMB (default .build/release/plumb), FILE (pipelines/main-job.yaml), SETTINGS (quick),
#   KILLS (12), SEED (1: the kill moments), MIN_DELAY / MAX_DELAY seconds (1 / 12)
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB=${PLUMB:-.build/release/plumb}
FILE=${FILE:-pipelines/main-job.yaml}
SETTINGS=${SETTINGS:-quick}
KILLS=${KILLS:-12}
MIN_DELAY=${MIN_DELAY:-1}
MAX_DELAY=${MAX_DELAY:-12}
WORK=${1:-/tmp/plumb-kill-pipeline}
RANDOM=${SEED:-1}
rm -rf "$WORK"; mkdir -p "$WORK"

run() { "$PLUMB" pipeline run "$FILE" --run "$WORK/$1" --settings "$SETTINGS" >> "$WORK/$1.log" 2>&1; }

start=$(date +%s)
run clean
echo "uninterrupted run: $(( $(date +%s) - start )) s"

kills=0; runs=0
while :; do
    runs=$((runs + 1))
    run killed & pid=$!
    if [ "$kills" -lt "$KILLS" ]; then
        span=$(( (MAX_DELAY - MIN_DELAY) * 1000 ))
        delay_ms=$(( MIN_DELAY * 1000 + (RANDOM * 32768 + RANDOM) % (span + 1) ))
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid"; wait "$pid" 2>/dev/null || true
            kills=$((kills + 1))
            hit=$(grep '^== ' "$WORK/killed.log" | tail -1)
            echo "kill $kills after ${delay_ms} ms, during: ${hit#== }"
            continue
        fi
    fi
    wait "$pid" && break
    echo "run $runs failed without a kill: see $WORK/killed.log"; exit 1
done
echo "$kills kills, $runs runs of plumb pipeline run"

python3 - "$WORK/clean" "$WORK/killed" <<'PY'
import json, os, sys
clean, killed = sys.argv[1], sys.argv[2]
stages = sorted(d for d in os.listdir(clean) if os.path.exists(os.path.join(clean, d, "pipeline-stage.json")))
differ = []
for stage in stages:
    a = json.load(open(os.path.join(clean, stage, "pipeline-stage.json")))
    path = os.path.join(killed, stage, "pipeline-stage.json")
    b = json.load(open(path)) if os.path.exists(path) else {}
    if a.get("output") != b.get("output"): differ.append(stage)
print(f"{len(stages) - len(differ)} of {len(stages)} stages have the uninterrupted run's output checksum")
if differ:
    print("differ: " + ", ".join(differ)); sys.exit(1)
PY
