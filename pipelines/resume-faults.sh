#!/usr/bin/env bash
# Faults injected into a training stage, then the same command run again: a SIGKILL after step 10
# (checkpoints of steps 4 and 8 on disk), alone and with damage added before the rerun (half a line
# at the end of metrics.jsonl, a leftover partial checkpoint directory, a flipped weight byte,
# trainer.json removed, the optimizer file cut in half, every checkpoint unreadable). For each: the
# step it resumed at, the steps run again, whether each step is logged once, and whether the final
# weights equal an uninterrupted run's bit for bit. Prints a Markdown table (docs/reliability.md).
# Usage: pipelines/resume-faults.sh [WORK]   (PLUMB = the plumb binary, default .build/release/plumb)
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB=${PLUMB:-.build/release/plumb}
WORK=${1:-/tmp/plumb-resume-faults}
rm -rf "$WORK"; mkdir -p "$WORK"
source pipelines/small-sft-fixture.sh
make_small_sft_fixture

sft() {   # sft OUT [ENV...]
    local out=$1; shift
    env "$@" "$PLUMB" sft --tokenizer "$WORK/spm/spm.model" --data "$WORK/runs/fixture/import-sft" --init-from tiny \
        --config "$WORK/model.json" --seq-len 64 --rows 4 --epochs 1 --lr 3e-3 --gradient-accumulation 2 \
        --checkpoint-every 4 --eval-every 0 --out "$out"
}
weights() { jq -r '.artifacts[] | select(.name == "model.safetensors") | .rawSHA256' "$1/manifest.json"; }

sft "$WORK/runs/reference/sft" > "$WORK/reference.log" 2>&1
reference=$(weights "$WORK/runs/reference/sft")
total=$(jq -r '.metrics.steps' "$WORK/runs/reference/sft/manifest.json")
sft "$WORK/runs/killed/sft" PLUMB_KILL_AFTER_STEP=10 > "$WORK/killed.log" 2>&1 && { echo "the kill did not happen"; exit 1; }

echo "| fault injected before the rerun | resumed at step | steps run again | each step logged once | final weights = uninterrupted |"
echo "|---|---|---|---|---|"
inject() {   # inject NAME DESCRIPTION FUNCTION: copy the killed run, damage it in its directory, rerun, report
    local name=$1 description=$2 damage=$3
    local stage="$WORK/runs/$name/sft"
    mkdir -p "$WORK/runs/$name"; cp -a "$WORK/runs/killed/sft" "$stage"
    (cd "$stage" && $damage)
    sft "$stage" > "$WORK/$name.log" 2>&1
    local resumed steps once same
    resumed=$(jq -r 'select(.event == "start") | .resumed_at_step' "$stage/metrics.jsonl" | tail -1)
    steps=$(jq -r 'select(.event == "step") | .step' "$stage/metrics.jsonl" | tr '\n' ' ')
    once=$([ "$steps" = "$(seq -s ' ' 1 "$total") " ] && echo yes || echo "no: $steps")
    same=$([ "$(weights "$stage")" = "$reference" ] && echo yes || echo no)
    echo "| $description | $resumed | $((10 - resumed)) of the 10 done before the kill | $once | $same |"
}
flip_byte() { python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[-5] ^= 1; open(p, "wb").write(d)' "$1"; }
nothing() { true; }
half_line() { printf '{"event":"step","lo' >> metrics.jsonl; }
partial_dir() { mkdir checkpoints/.partial-step-00000012-4242; head -c 1000 /dev/urandom > checkpoints/.partial-step-00000012-4242/model.safetensors; }
flip_weight() { flip_byte checkpoints/step-00000008/model.safetensors; }
no_state() { rm checkpoints/step-00000008/trainer.json; }
cut_optimizer() { local f=checkpoints/step-00000008/optimizer.safetensors; truncate -s $(( $(stat -c %s $f) / 2 )) $f; }
no_states() { rm checkpoints/step-*/trainer.json; }

inject kill "none (the SIGKILL after step 10 only)" nothing
inject metrics "half a line appended to metrics.jsonl" half_line
inject partial "a leftover .partial-step-00000012-4242 directory" partial_dir
inject flipped "one byte of the newest checkpoint's weights flipped" flip_weight
inject state "the newest trainer.json removed" no_state
inject optimizer "the newest optimizer.safetensors cut in half" cut_optimizer
inject none "both checkpoints' trainer.json removed" no_states
echo
echo "Notices of the reruns (stderr):"
grep -h "plumb: \(removed\|checkpoint\)" "$WORK"/*.log | sed "s|$WORK|WORK|g; s/^/    /"
