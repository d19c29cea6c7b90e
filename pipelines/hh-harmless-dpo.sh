#!/usr/bin/env bash
# DPO on the HH-RLHF harmless sample, on the same folds as hh-harmless-rm.sh's reward model: each
# fold's stages up to the reward model's evaluation (hh-harmless-common.sh's `reward_model_fold`),
# then `plumb dpo` from the fold's SFT (reference = that SFT, cached) on its import's training
# comparisons, and the implicit reward's accuracy on the test split, beta * (log pi - log pi_SFT)
# of each response (`rm eval --scoring likelihood --reference SFT`). Prints one Markdown table:
# per fold the test pairs, DPO's implicit-reward accuracy, the reward model's, and the "prefer
# shorter" / "prefer longer" baselines, then the mean over folds and the pooled figure.
#
#   pipelines/hh-harmless-dpo.sh [DATA] [RUNS] [FOLDS]   (as hh-harmless-rm.sh)
# Settings from the environment: hh-harmless-rm.sh's, and DPO_LR (default 1e-4), DPO_EPOCHS (1),
# DPO_BETA (0.1). Complete stages are skipped on a rerun.
set -euo pipefail
source "$(dirname "$0")/hh-harmless-common.sh"
dpo_lr=${DPO_LR:-1e-4}; dpo_epochs=${DPO_EPOCHS:-1}; dpo_beta=${DPO_BETA:-0.1}
rows=()
for ((fold = 0; fold < folds; fold++)); do
    reward_model_fold "$fold"
    dir=$runs/fold-$fold
    tok=(--tokenizer "$dir/spm/spm.model")
    complete "$dir/dpo" || "$plumb" dpo "${tok[@]}" --init-from "$dir/sft" --data "$dir/import" --beta "$dpo_beta" \
        --epochs "$dpo_epochs" --lr "$dpo_lr" --eval-every 40 --out "$dir/dpo" "${common[@]}" > "$dir.dpo.log" 2>&1
    complete "$dir/dpo-eval" || "$plumb" rm eval "${tok[@]}" --model "$dir/dpo" --scoring likelihood --reference "$dir/sft" \
        --beta "$dpo_beta" --data "$dir/import" --split test --out "$dir/dpo-eval" > "$dir/dpo-eval.txt"
    pairs=$(awk 'index($0, "overall") == 1 { print $(NF-1); exit }' "$dir/rm-eval.txt")
    row="$fold $pairs $(accuracy "$dir/dpo-eval.txt" overall) $(accuracy "$dir/rm-eval.txt" overall)"
    row+=" $(accuracy "$dir/rm-eval.txt" "baseline: prefer shorter") $(accuracy "$dir/rm-eval.txt" "baseline: prefer longer")"
    rows+=("$row")
    echo "fold $fold done: $row" >&2
done
echo "| fold | test pairs | DPO implicit reward | reward model | prefer shorter | prefer longer |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}" | awk '
    { printf "| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", $1, $2, $3, $4, $5, $6
      n++; pairs += $2; for (i = 3; i <= 6; i++) { mean[i] += $i; pooled[i] += $i * $2 } }
    END { printf "| mean of %d folds | | %.3f | %.3f | %.3f | %.3f |\n", n, mean[3] / n, mean[4] / n, mean[5] / n, mean[6] / n
          printf "| pooled | %d | %.3f | %.3f | %.3f | %.3f |\n", pairs, pooled[3] / pairs, pooled[4] / pairs, pooled[5] / pairs, pooled[6] / pairs }'
