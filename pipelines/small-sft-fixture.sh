# Sourced by the pipelines that train a small `plumb sft` stage (resume-faults.sh,
# check-tensorboard.sh), with $PLUMB and $WORK set: the quick task (seed 3), a 512-piece tokenizer
# ($WORK/spm/spm.model), its SFT demonstrations imported ($WORK/runs/fixture/import-sft) and a two-layer
# model config ($WORK/model.json). `quiet CMD...` keeps CMD's output in $WORK/last.log, shown if it fails.
quiet() { "$@" > "$WORK/last.log" 2>&1 || { cat "$WORK/last.log"; exit 1; }; }

make_small_sft_fixture() {
    quiet "$PLUMB" task generate --seed 3 --quick --out "$WORK/task"
    quiet "$PLUMB" tokenizer train --input "$WORK/task/corpus.txt" --out "$WORK/spm" --vocab-size 512
    quiet "$PLUMB" import "$WORK/task/sft.jsonl" --out "$WORK/runs/fixture/import-sft"
    echo '{"hidden_size": 32, "intermediate_size": 88, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 64, "tie_word_embeddings": true}' > "$WORK/model.json"
}
