#!/usr/bin/env bash
# The prepared paper-size Indirect Indexing run (issue 25): train RoPE and PoPE with recipe
# indexing-paper (8 × 512, 8 heads, 6.55M supervised targets each, bf16 on CUDA), then score
# Table 1 (1× test split, test seeds 0-2 × 500 examples) and render it. Sized for 12 minutes
# of one H200 (benchmarks/indexing_paper.md: the arithmetic).
#
#   benchmarks/indexing_paper.sh [--dry-run] [--seed N] [OUT]
#   (OUT default: runs/indexing-paper, with --dry-run runs/indexing-paper-dry-run)
#
# Writes OUT/checkpoints/{rope,pope}-indexing-paper[-sN] (checkpoint folders), OUT/checkpoints.yaml
# (their registry entries: rope-indexing-paper / pope-indexing-paper, group: per encoding, so
# further training seeds join the spread), OUT/rows (the result rows) and OUT/rows/figures/table1.*.
# Rerunning resumes: a training cut off mid-way continues from its train_state.safetensors
# (saved every 400 steps), a finished one is kept, scored rows are not recomputed.
# --dry-run: a few CPU steps of a tiny model through every stage, and the same scoring (CI).
set -euo pipefail
dry=() seed=0 out=
while (($#)); do
  case $1 in
    --dry-run) dry=(--dry-run); shift ;;
    --seed) seed=$2; shift 2 ;;
    -*) echo "error: unknown option $1; usage: $0 [--dry-run] [--seed N] [OUT]" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done
[[ $seed =~ ^[0-9]+$ ]] || { echo "error: --seed must be a non-negative integer, got $seed" >&2; exit 2; }
if ((${#dry[@]})); then
  device=(--device cpu) eval_device=cpu recipe=indexing-paper-dry-run out=${out:-runs/indexing-paper-dry-run}
else
  device=(--device cuda --bf16) eval_device=cuda recipe=indexing-paper out=${out:-runs/indexing-paper}
fi
suffix=$([[ $seed == 0 ]] && echo "" || echo "-s$seed")
mkdir -p "$out/checkpoints"
registry=$out/checkpoints.yaml
[[ -f $registry ]] || echo "models:" > "$registry"
models=()
for pe in rope pope; do
  name=$pe-indexing-paper$suffix
  folder=$out/checkpoints/$name
  if [[ -f $folder/recipe.yaml ]] && ! grep -q "^name: $recipe\$" "$folder/recipe.yaml"; then
    echo "error: $folder holds a run of another recipe than $recipe; give another OUT or delete it" >&2; exit 2
  fi
  if [[ ! -f $folder/model.safetensors || -f $folder/train_state.safetensors ]]; then
    pope-bench train indexing-paper --pe "$pe" --out "$folder" "${device[@]}" "${dry[@]}" --set "train.seed=$seed"
  fi
  grep -q "^  $name:" "$registry" || cat >> "$registry" <<ENTRY
  $name:
    path: checkpoints/$name
    pe: $pe
    train_length: 51
    tokenizer: chars
    seed: $seed
    group: $pe-indexing-paper
    description: "Indirect Indexing, 16 queries per row (recipe $recipe, seed $seed)"
ENTRY
  models+=(-m "$name")
done
pope-bench run --checkpoints "$registry" "${models[@]}" -t indirect_indexing --lengths 1x --limit 500 \
  --seed 0 --seed 1 --seed 2 --device "$eval_device" --out "$out/rows" --no-plot
pope-bench figures table1 --results "$out/rows" --checkpoints "$registry"
