# Sourced by the HH-RLHF harmless pipelines (hh-harmless-rm.sh, hh-harmless-dpo.sh) with their
# arguments [DATA] [RUNS] [FOLDS]: sets $here, $data, $runs, $folds and $plumb (built if missing),
# the model config ($config) and the options every training stage shares ($common), and defines
#   complete DIR            DIR holds a complete stage (rerunning a complete training stage is an error)
#   accuracy FILE ROW       the last column of the `rm eval` table row of FILE starting with ROW
#   reward_model_fold FOLD  fold FOLD's stages up to the reward model's held-out evaluation, in
#                           $runs/fold-FOLD: import (split salted per fold; fold 0 unsalted), tokenizer,
#                           pretrain, sft, rm, rm-eval (its table in rm-eval.txt); complete stages are skipped.
# Settings from the environment: PRETRAIN_EPOCHS (default 8), SFT_EPOCHS (2), RM_EPOCHS (1), RM_LR (3e-4).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${1:-$here/../shared/data/hh-rlhf/harmless-base-test.head1500.jsonl.gz}
runs=${2:-$here/runs/hh-harmless}
folds=${3:-1}
plumb=${PLUMB:-$here/.build/release/plumb}
[ -x "$plumb" ] || (cd "$here" && swift build -c release --product plumb)
mkdir -p "$runs"
config=$runs/model-config.json
cat > "$config" <<'JSON'
{"model_type": "llama", "hidden_size": 96, "intermediate_size": 256, "num_hidden_layers": 3,
 "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 2048,
 "max_position_embeddings": 192, "tie_word_embeddings": true}
JSON
common=(--seq-len 192 --rows 16 --seed 1)
pretrain_epochs=${PRETRAIN_EPOCHS:-8}; sft_epochs=${SFT_EPOCHS:-2}; rm_epochs=${RM_EPOCHS:-1}; rm_lr=${RM_LR:-3e-4}

complete() { grep -q '"status" : "complete"' "$1/manifest.json" 2>/dev/null; }
accuracy() { awk -v row="$2" 'index($0, row) == 1 { print $NF; exit }' "$1"; }

reward_model_fold() {
    local fold=$1 dir=$runs/fold-$1
    local salt=() tok=(--tokenizer "$runs/fold-$1/spm/spm.model")
    if [ "$fold" -gt 0 ]; then salt=(--split-salt "fold-$fold"); fi
    complete "$dir/import" || "$plumb" import "$data" --out "$dir/import" --dimension safety \
        --validation-fraction 0.1 --test-fraction 0.2 "${salt[@]}" > "$dir.import.log"
    [ -f "$dir/spm/spm.model" ] || "$plumb" tokenizer train --records "$dir"/import/comparisons-train-*.jsonl.zst \
        --vocab-size 2048 --out "$dir/spm" > "$dir.tokenizer.log"
    complete "$dir/pretrain" || "$plumb" pretrain "${tok[@]}" --comparisons "$dir/import" --comparison-responses both \
        --init-from tiny --config "$config" --epochs "$pretrain_epochs" --lr 2e-3 --eval-every 100 --out "$dir/pretrain" \
        "${common[@]}" > "$dir.pretrain.log" 2>&1
    complete "$dir/sft" || "$plumb" sft "${tok[@]}" --comparisons "$dir/import" --init-from "$dir/pretrain" \
        --epochs "$sft_epochs" --lr 1e-3 --eval-every 100 --out "$dir/sft" "${common[@]}" > "$dir.sft.log" 2>&1
    complete "$dir/rm" || "$plumb" rm train "${tok[@]}" --init-from "$dir/sft" --data "$dir/import" --dimension safety \
        --margin none --epochs "$rm_epochs" --lr "$rm_lr" --eval-every 40 --out "$dir/rm" "${common[@]}" > "$dir.rm.log" 2>&1
    complete "$dir/rm-eval" || "$plumb" rm eval "${tok[@]}" --model "$dir/rm" --data "$dir/import" --split test \
        --out "$dir/rm-eval" > "$dir/rm-eval.txt"
}
