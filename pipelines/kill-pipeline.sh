#!/usr/bin/env bash
# Kills `plumb pipeline run` with SIGKILL at random moments and runs it again each time, until the
# pipeline completes; then compares every stage's output checksum (pipeline-stage.json) with an
# uninterrupted run's. Each kill lands in a random stage: the run is let through 1 to AHEAD stages it
# has to run (its log's `== STAGE` lines that are not `complete`) and killed a random 0 to MAX_IN_STAGE ms after the last of them
# starts, so the kills spread over the pipeline whatever its stages' lengths. Prints each kill (the
# stage it hit) and a summary; exits 1 on any difference.
# Usage: pipelines/kill-pipeline.sh [WORK]
#   PLUMB (default .build/release/plumb), FILE (pipelines/main-job.yaml), SETTINGS (quick),
#   KILLS (12), SEED (2: the kill moments), AHEAD (2), MAX_IN_STAGE (1500)
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB=${PLUMB:-.build/release/plumb}
FILE=${FILE:-pipelines/main-job.yaml}
SETTINGS=${SETTINGS:-quick}
KILLS=${KILLS:-12}
AHEAD=${AHEAD:-2}
MAX_IN_STAGE=${MAX_IN_STAGE:-1500}
WORK=${1:-/tmp/plumb-kill-pipeline}
RANDOM=${SEED:-2}
rm -rf "$WORK"; mkdir -p "$WORK"

# `exec`, so the background job's pid is plumb's own and SIGKILL reaches it.
run() { ( exec "$PLUMB" pipeline run "$FILE" --run "$WORK/$1" --settings "$SETTINGS" >> "$WORK/$1.log" 2>&1 ); }

start=$(date +%s)
run clean
echo "uninterrupted run: $(( $(date +%s) - start )) s"

kills=0; runs=0; : > "$WORK/killed.log"
while :; do
    runs=$((runs + 1))
    lines=$(wc -l < "$WORK/killed.log" 2>/dev/null || echo 0)
    ( exec "$PLUMB" pipeline run "$FILE" --run "$WORK/killed" --settings "$SETTINGS" >> "$WORK/killed.log" 2>&1 ) & pid=$!
    if [ "$kills" -lt "$KILLS" ]; then
        ahead=$(( 1 + RANDOM % AHEAD ))
        delay_ms=$(( (RANDOM * 32768 + RANDOM) % (MAX_IN_STAGE + 1) ))
        # Wait until the run has started `ahead` stages (or ended).
        while kill -0 "$pid" 2>/dev/null &&
              [ "$(tail -n +$((lines + 1)) "$WORK/killed.log" | grep '^== ' | grep -vc ': complete$' || true)" -lt "$ahead" ]; do sleep 0.05; done
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid"; wait "$pid" 2>/dev/null || true
            kills=$((kills + 1))
            hit=$(grep '^== ' "$WORK/killed.log" | tail -1)
            echo "kill $kills, ${delay_ms} ms into the run's stage $ahead: ${hit#== }"
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
