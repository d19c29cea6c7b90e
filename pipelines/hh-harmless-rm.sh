#!/usr/bin/env bash
# A safety reward model learned from the HH-RLHF harmless sample alone, end to end with `plumb`:
# import (split by prompt hash, salted per fold), a BPE tokenizer on the training split, a small
# Llama pretrained on every training dialogue (prompt + both responses), SFT on the chosen responses
# (the DPO paper's Preferred-FT), the safety reward model (no margin: HH has no strengths), and its
# held-out accuracy against the "prefer shorter" and "prefer longer" baselines.
#
#   pipelines/hh-harmless-rm.sh [DATA] [RUNS] [FOLDS]
#     DATA   HH-RLHF JSONL(.gz)  (default ../shared/data/hh-rlhf/harmless-base-test.head1500.jsonl.gz)
#     RUNS   runs directory      (default runs/hh-harmless)
#     FOLDS  number of salted splits to repeat the estimate on (default 1; fold 0 is unsalted)
# Settings from the environment: PRETRAIN_EPOCHS (default 8), SFT_EPOCHS (2), RM_EPOCHS (1), RM_LR (3e-4).
# The stages are hh-harmless-common.sh's `reward_model_fold`.
# Each fold prints its figures; reruns skip completed stages' work only where `plumb` does (training
# stages resume from checkpoints).
set -euo pipefail
source "$(dirname "$0")/hh-harmless-common.sh"
for ((fold = 0; fold < folds; fold++)); do
    reward_model_fold "$fold"
    echo "fold $fold (test split):"
    grep -E "^(overall|baseline)" "$runs/fold-$fold/rm-eval.txt"
done
