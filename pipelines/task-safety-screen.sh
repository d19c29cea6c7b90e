#!/usr/bin/env bash
# TigerBot's safety screen measured on the built-in task's labelled responses, with `plumb` commands:
# the main job's steps up to its safety reward model (task, imports, tokenizer, pretrain, SFT,
# `rm train --dimension safety` with the main job's settings), then the labelled responses imported,
# the safety model's unsafe gate on them (`rm eval --labelled`), and `plumb screen` with the task's
# lexicon alone and lexicon + the safety model's gate, on the labelled responses and on the SFT data.
#
#   pipelines/task-safety-screen.sh [RUN] [SEED]
#     RUN   run directory (default runs/task-screen)
#     SEED  task, data order and weights (default 1)
# PRETRAIN_EPOCHS (default 3, the main job's) sets the base model's pretraining; the main job measured
# its reward models' oracle agreement unchanged between 1 and 3 epochs (MainJobSettings.swift).
# Complete stages are skipped on a rerun.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
run=${1:-$here/runs/task-screen}
seed=${2:-1}
plumb=${PLUMB:-$here/.build/release/plumb}
[ -x "$plumb" ] || (cd "$here" && swift build -c release --product plumb)
mkdir -p "$run"
task=$run/task
complete() { [ -f "$1/manifest.json" ] && grep -q '"status" *: *"complete"' "$1/manifest.json"; }

[ -f "$task/task.json" ] || "$plumb" task generate --seed "$seed" --out "$task"
complete "$run/import-sft" || "$plumb" import "$task/sft.jsonl" --out "$run/import-sft"
complete "$run/import-edits" || "$plumb" import "$task/edits.json" --label-config "$task/edits-config.xml" --out "$run/import-edits"
complete "$run/import-comparisons" || "$plumb" import "$task/comparisons.jsonl" --out "$run/import-comparisons"
complete "$run/import-rankings" || "$plumb" import "$task/rankings.json" --label-config "$task/rankings-config.xml" --out "$run/import-rankings"
complete "$run/import-labelled" || "$plumb" import "$task/labelled-responses.jsonl" --validation-fraction 0 --test-fraction 1 --out "$run/import-labelled"
[ -f "$run/spm/spm.model" ] || "$plumb" tokenizer train --input "$task/corpus.txt" --vocab-size 1024 --out "$run/spm"

# The main job's standard model and settings (Sources/PlumbCLI/Stages/MainJobSettings.swift).
cat > "$run/model-config.json" <<'JSON'
{"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 4, "num_attention_heads": 4,
 "num_key_value_heads": 2, "vocab_size": 1024, "max_position_embeddings": 128, "tie_word_embeddings": true}
JSON
common=(--tokenizer "$run/spm/spm.model" --seq-len 128 --rows 16 --seed "$seed")
complete "$run/pretrain" || "$plumb" pretrain --text "$task/corpus.txt" --init-from tiny --config "$run/model-config.json" \
    --init-seed "$seed" --epochs "${PRETRAIN_EPOCHS:-3}" --lr 3e-3 --eval-every 100 --out "$run/pretrain" "${common[@]}"
complete "$run/sft" || "$plumb" sft --data "$run/import-sft" --data "$run/import-edits" --init-from "$run/pretrain" \
    --epochs 2 --lr 1e-3 --eval-every 50 --out "$run/sft" "${common[@]}"
complete "$run/rm-safety" || "$plumb" rm train --init-from "$run/sft" --data "$run/import-comparisons" \
    --data "$run/import-rankings" --data "$run/import-edits" --dimension safety --epochs 1 --lr 3e-4 \
    --likelihood centred --likelihood-weight 0.05 --mix '*:safety=0.7' --mix '*:helpfulness=0.3' \
    --eval-every 100 --out "$run/rm-safety" "${common[@]}"

"$plumb" rm eval --tokenizer "$run/spm/spm.model" --model "$run/rm-safety" --data "$run/import-comparisons" \
    --labelled "$run/import-labelled" --out "$run/rm-safety-labelled"
"$plumb" screen --data "$run/import-labelled" --lexicon "$task/safety-lexicon.txt" --out "$run/screen-lexicon"
"$plumb" screen --data "$run/import-labelled" --lexicon "$task/safety-lexicon.txt" \
    --model "$run/rm-safety" --tokenizer "$run/spm/spm.model" --out "$run/screen-labelled"
"$plumb" screen --data "$run/import-sft" --lexicon "$task/safety-lexicon.txt" \
    --model "$run/rm-safety" --tokenizer "$run/spm/spm.model" --out "$run/screen-sft"
