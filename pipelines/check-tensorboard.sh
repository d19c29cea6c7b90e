#!/usr/bin/env bash
# Reads training stages' TensorBoard event files (STAGE/tb/) with TensorBoard's own reader
# (EventAccumulator, and `tensorboard --inspect`) and checks them against each stage's metrics.jsonl:
# the same steps for every figure, the same values to float32 precision, each step once. Without
# arguments it makes a small `plumb sft` stage, kills it after step 10 and resumes it (two events
# files, the second retracting steps 9-10 with a session start), and checks that; with arguments it
# checks the stages named (stage directories, or run directories: each training stage in them).
# Needs Python 3; installs TensorBoard into a venv ($TB_VENV, default /tmp/plumb-tensorboard-venv).
# Usage: pipelines/check-tensorboard.sh [STAGE_OR_RUN...]   (PLUMB = the plumb binary)
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB=${PLUMB:-.build/release/plumb}
TB_VENV=${TB_VENV:-/tmp/plumb-tensorboard-venv}
if ! "$TB_VENV/bin/python" -c "import tensorboard" 2>/dev/null; then
    python3 -m venv "$TB_VENV"
    "$TB_VENV/bin/pip" install -q tensorboard
fi

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
    WORK=${WORK:-/tmp/plumb-check-tensorboard}
    rm -rf "$WORK"; mkdir -p "$WORK"
    source pipelines/small-sft-fixture.sh
    make_small_sft_fixture
    sft=("$PLUMB" sft --tokenizer "$WORK/spm/spm.model" --data "$WORK/runs/fixture/import-sft" --init-from tiny --config "$WORK/model.json"
         --seq-len 64 --rows 4 --epochs 1 --lr 3e-3 --checkpoint-every 4 --eval-every 4 --out "$WORK/runs/check/sft")
    PLUMB_KILL_AFTER_STEP=10 "${sft[@]}" > "$WORK/killed.log" 2>&1 && { echo "the kill did not happen"; exit 1; }
    quiet "${sft[@]}"
    stages=("$WORK/runs/check/sft")
fi

"$TB_VENV/bin/python" - "${stages[@]}" <<'PY'
import json, math, os, subprocess, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

def stage_dirs(paths):
    for p in paths:
        if os.path.isdir(os.path.join(p, "tb")):
            yield p
        else:
            for name in sorted(os.listdir(p)):
                if os.path.isdir(os.path.join(p, name, "tb")):
                    yield os.path.join(p, name)

def logged(stage):
    figures = {}
    for line in open(os.path.join(stage, "metrics.jsonl")):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        prefix = {"step": "train/", "eval": "eval/"}.get(o.get("event"))
        if prefix is None:
            continue
        for k, v in o.items():
            if k in ("event", "step", "elapsed_s", "tokens") or not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            figures.setdefault(prefix + k, []).append((o["step"], float(v)))
    return figures

failures = 0
for stage in stage_dirs(sys.argv[1:]):
    tb = os.path.join(stage, "tb")
    files = sorted(f for f in os.listdir(tb) if f.startswith("events.out.tfevents."))
    acc = EventAccumulator(tb, size_guidance={"scalars": 0})
    acc.Reload()
    tags = sorted(acc.Tags()["scalars"])
    expected = logged(stage)
    problems = []
    for tag in sorted(set(expected) | set(tags)):
        want = expected.get(tag)
        got = [(e.step, e.value) for e in acc.Scalars(tag)] if tag in tags else None
        if want is None or got is None:
            if not (want is None and tag in ("train/lr", "train/grad_norm", "train/loss", "train/tokens_per_second")):
                problems.append(f"{tag}: in {'TensorBoard' if want is None else 'metrics.jsonl'} only")
            continue
        if [s for s, _ in got] != [s for s, _ in want]:
            problems.append(f"{tag}: steps differ ({len(got)} in TensorBoard, {len(want)} in metrics.jsonl)")
        elif any(abs(g - w) > 1e-6 * max(1.0, abs(w)) and not (math.isnan(g) and math.isnan(w)) for (_, g), (_, w) in zip(got, want)):
            problems.append(f"{tag}: values differ")
    loss = acc.Scalars("train/loss") if "train/loss" in tags else []
    print(f"{stage}: {len(files)} events file(s), {len(tags)} scalar tags, "
          f"{len(loss)} steps of train/loss" + (f" (step {loss[0].step}: {loss[0].value:.4f} ... step {loss[-1].step}: {loss[-1].value:.4f})" if loss else ""))
    print("  tags: " + ", ".join(tags))
    steps = [e.step for e in loss]
    if len(steps) != len(set(steps)):
        problems.append("a step of train/loss appears twice")
    for p in problems:
        print("  MISMATCH " + p)
    if not problems:
        print("  every figure of metrics.jsonl read back by TensorBoard's EventAccumulator: same steps, same values")
    failures += bool(problems)

    inspect = subprocess.run([os.path.join(os.path.dirname(sys.executable), "tensorboard"), "--inspect", "--logdir", tb],
                             capture_output=True, text=True)
    stats = inspect.stdout.split("Event statistics", 1)[-1].splitlines()[1:]
    stats = [" ".join(l.split()) for l in stats if l.strip() and not l.startswith("=") and not l.rstrip().endswith(" -")]
    print("  tensorboard --inspect: " + "; ".join(stats))
sys.exit(1 if failures else 0)
PY
