#!/usr/bin/env bash
# Over-optimisation measurements on a completed standard main job (docs/overoptimisation.md):
#   pipelines/overopt/experiments.sh RUN OUT STEP...
# RUN: the main job's run directory; OUT: a scratch directory for the new stages. Steps, in order of use:
#   variants        reward models with each likelihood term on and off (same data, seed and options as the
#                   main job's rm stages otherwise); or one of them by name: h-none h-mean1 h-centred0.3
#                   s-none s-sum0.05
#   samples POLICY N K   k samples of the first N evaluation prompts from RUN/POLICY at temperature 0.6,
#                   scored by the main job's reward models, every prompt also written as a ranking task
#   scores POLICY   eval sample-scores of those samples with every reward model of `variants`
#   fixed           every reward model's scores of the task's held-out oracle pairs (rm-eval.jsonl)
#   annotate POLICY PAIRS  the task's annotators compare PAIRS pairs of each prompt's samples; every reward
#                   model evaluated on them (on-policy agreement with the annotators)
# Environment: PLUMB (the binary; default .build/release/plumb), NICE (default nice), RMS (where `variants`
# wrote its reward models, default OUT: a stage holds its run directory's lock, so concurrent steps take
# separate OUT directories).
set -euo pipefail
RUN=$1 OUT=$2
shift 2
PLUMB=${PLUMB:-.build/release/plumb}
NICE=${NICE:-nice}
TOK=$RUN/tokenizer/spm.model
DATA=(--data "$RUN/import-comparisons" --data "$RUN/import-rankings" --data "$RUN/import-edits")
COMMON=(--tokenizer "$TOK" --init-from "$RUN/sft" "${DATA[@]}" --seq-len 128 --rows 16 --epochs 1 --lr 0.0003 --seed 1 --eval-every 100)
SAFETY_MIX=(--mix "*:safety=0.7" --mix "*:helpfulness=0.3")
RMS=${RMS:-$OUT}
mkdir -p "$OUT"

# name dimension likelihood weight [mix...]
variant() {
    local name=$1 dim=$2 term=$3 weight=$4
    shift 4
    [ -f "$OUT/rm-$name/manifest.json" ] && grep -q '"complete"' "$OUT/rm-$name/manifest.json" && return 0
    /usr/bin/time -f "rm-$name: %e s wall, %M KiB peak" $NICE "$PLUMB" rm train "${COMMON[@]}" --dimension "$dim" \
        --likelihood "$term" --likelihood-weight "$weight" "$@" --out "$OUT/rm-$name" > "$OUT/rm-$name.log" 2>&1
    tail -1 "$OUT/rm-$name.log"
}

models() {   # every reward model as --model NAME=DIR
    echo --model "h-sum0.3=$RUN/rm-helpfulness" --model "s-centred0.05=$RUN/rm-safety"
    for d in "$RMS"/rm-*/; do
        [ -f "$d/manifest.json" ] || continue
        local n=${d%/}; n=${n##*/rm-}
        echo --model "$n=${d%/}"
    done
}

while [ $# -gt 0 ]; do
    step=$1; shift
    case $step in
        variants)
            for name in h-none h-mean1 h-centred0.3 s-none s-sum0.05; do set -- "$name" "$@"; done
            ;;
        h-none) variant h-none helpfulness none 0 ;;
        h-mean1) variant h-mean1 helpfulness mean 1 ;;
        h-centred0.3) variant h-centred0.3 helpfulness centred 0.3 ;;
        s-none) variant s-none safety none 0 "${SAFETY_MIX[@]}" ;;
        s-sum0.05) variant s-sum0.05 safety sum 0.05 "${SAFETY_MIX[@]}" ;;
        samples)
            policy=$1 n=$2 k=$3; shift 3
            /usr/bin/time -f "samples-$policy: %e s wall" $NICE "$PLUMB" rs --tokenizer "$TOK" --policy "$RUN/$policy" \
                --helpfulness "$RUN/rm-helpfulness" --safety "$RUN/rm-safety" --prompts "$RUN/import-eval-prompts" --k "$k" \
                --temperature 0.6 --max-new-tokens 48 --seed 1 --limit "$n" --human-rank-share 1 \
                --out "$OUT/samples-$policy" > "$OUT/samples-$policy.log" 2>&1
            tail -1 "$OUT/samples-$policy.log"
            ;;
        scores)
            policy=$1; shift
            # shellcheck disable=SC2046
            /usr/bin/time -f "scores-$policy: %e s wall" $NICE "$PLUMB" eval sample-scores --samples "$OUT/samples-$policy" \
                --tokenizer "$TOK" $(models) --out "$OUT/scores-$policy.jsonl" 2> "$OUT/scores-$policy.log"
            cat "$OUT/scores-$policy.log"
            ;;
        annotate)
            policy=$1 pairs=$2; shift 2
            $NICE "$PLUMB" task annotate --task "$RUN/task" --tasks "$OUT/samples-$policy/human-rank-tasks.json" --as comparisons \
                --pairs-per-task "$pairs" --seed 1 --out "$OUT/comparisons-$policy.jsonl"
            rm -rf "$OUT/import-comparisons-$policy"
            $NICE "$PLUMB" import "$OUT/comparisons-$policy.jsonl" --validation-fraction 0 --test-fraction 1 \
                --out "$OUT/import-comparisons-$policy" > "$OUT/import-comparisons-$policy.log" 2>&1
            for spec in $(models | sed 's/--model //g'); do
                name=${spec%%=*} dir=${spec#*=}
                rm -rf "$OUT/annotated-$policy-$name"
                $NICE "$PLUMB" rm eval --tokenizer "$TOK" --model "$dir" --data "$OUT/import-comparisons-$policy" --split test \
                    --json --out "$OUT/annotated-$policy-$name" > "$OUT/annotated-$policy-$name.json" 2> "$OUT/annotated-$policy-$name.log"
            done
            ;;
        fixed)
            # every reward model's scores of the task's held-out oracle pairs (rm-eval.jsonl), for
            # agreement per prompt kind and contrast (look-alikes: a refusal against an answer)
            for spec in $(models | sed 's/--model //g'); do
                name=${spec%%=*} dir=${spec#*=}
                rm -rf "$OUT/fixed-$name"
                $NICE "$PLUMB" rm score --tokenizer "$TOK" --model "$dir" --data "$RUN/import-rm-eval" --set comparisons-test \
                    --out "$OUT/fixed-$name" > "$OUT/fixed-$name.log" 2>&1
            done
            ;;
        *)
            echo "experiments.sh: unknown step '$step'" >&2
            exit 2
            ;;
    esac
done
