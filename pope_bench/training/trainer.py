"""``pope-bench train``: AdamW with linear warmup and cosine decay, gradient clipping,
seeded batches, periodic resumable checkpoints, and a native checkpoint at the end.

What lands in ``--out``: the model (``model.safetensors`` + ``config.json``), ``recipe.yaml``
(fully resolved), ``train_command.txt`` (the exact command), ``training_curve.csv`` (step,
supervised targets seen so far, lr, train loss, tokens/s, held-out loss and next-token accuracy, and each task's accuracy
when the data are tasks), rewritten at every evaluation. While training,
``train_state.safetensors`` holds everything needed to resume (model, optimiser, step,
sampler state, curve; no pickle, see :mod:`.state`); rerunning the same command continues
from it.
"""

from __future__ import annotations

import csv
import math
import shlex
import sys
import time
from pathlib import Path

import torch
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from pope_bench.core.errors import BadInput
from pope_bench.encodings import field_owners
from pope_bench.models.native import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.training.batches import held_out_source, training_stages
from pope_bench.training.recipe import queries_per_string
from pope_bench.training.state import (
    STATE_FILE,
    TrainState,
    load_state,
    peek_state,
    save_state,
)


def lr_at(step: int, train: dict) -> float:
    """Linear warmup to ``lr`` then cosine decay to ``min_lr`` at ``steps``."""
    warmup, total = train["warmup_steps"], train["steps"]
    if step < warmup:
        return train["lr"] * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return train["min_lr"] + 0.5 * (train["lr"] - train["min_lr"]) * (1 + math.cos(math.pi * progress))


def test_length(recipe: dict, held_out) -> int:
    """The length the model is tested at (its 1×, the config's ``train_length``): the
    held-out data's longest example for tasks — ``train.length`` unless several queries per
    string make the training rows longer than the tested ones — else ``train.length``."""
    return held_out.longest() if queries_per_string(recipe["data"]) > 1 else recipe["train"]["length"]


def build_model(recipe: dict, pe: str, vocab_size: int, train_length: int) -> PopeBenchForCausalLM:
    """A recipe serves every encoding: its ``model`` section may set any encoding's fields
    (text-tiny sets PoPE's ``delta_init``), and only those of ``pe`` reach the config."""
    owners = field_owners()
    model_cfg = {k: v for k, v in recipe["model"].items() if k not in owners or pe in owners[k]}
    config = PopeBenchConfig(
        vocab_size=vocab_size,
        pe=pe,
        train_length=train_length,
        tokenizer=recipe["tokenizer"],
        **model_cfg,
    )
    torch.manual_seed(recipe["train"]["seed"])
    return PopeBenchForCausalLM(config)


def make_optimizer(model: torch.nn.Module, train: dict, fused: bool = False) -> torch.optim.AdamW:
    """Weight decay on matrices only (not norms, not PoPE's δ), as in GPT-2 / nanoGPT;
    ``fused`` (CUDA only) runs the whole update as one kernel."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": train["weight_decay"]}, {"params": other, "weight_decay": 0.0}],
        lr=train["lr"],
        betas=(train["beta1"], train["beta2"]),
        fused=fused,
    )


@torch.no_grad()
def held_out_metrics(model, source, train: dict, length: int) -> tuple[float, float]:
    """Mean loss and argmax accuracy on the labelled tokens of ``eval_batches`` held-out
    batches of ``length`` tokens, drawn from a fixed generator so that every evaluation
    sees the same ones."""
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(10_000 + train["seed"])
    losses, hits, counted = [], 0, 0
    for _ in range(train["eval_batches"]):
        x, y = (part.to(device) for part in source.sample_batch(gen, train["batch_size"], length))
        out = model(x, labels=y, use_cache=False)
        losses.append(out.loss.item())
        predicted, wanted = out.logits[:, :-1].argmax(-1), y[:, 1:]
        scored = wanted != -100
        hits += int((predicted[scored] == wanted[scored]).sum())
        counted += int(scored.sum())
    model.train()
    return sum(losses) / len(losses), hits / counted


def validation_row(model, source, train: dict, length: int) -> dict:
    """``val_loss``, ``val_accuracy`` and, for tasks (a source with ``parts()``),
    ``accuracy:<task>`` for each — the accuracy-vs-training-budget curve of §3.1."""
    loss, accuracy = held_out_metrics(model, source, train, length)
    row = {"val_loss": loss, "val_accuracy": accuracy}
    parts = source.parts() if hasattr(source, "parts") else {}
    for name, part in parts.items():
        row[f"accuracy:{name}"] = accuracy if len(parts) == 1 else held_out_metrics(model, part, train, length)[1]
    return row


def train(recipe: dict, pe: str, out: Path, threads: int | None = None, device: str = "cpu",
          bf16: bool = False) -> Path:
    """Train (or resume) and write the checkpoint folder ``out``. ``device`` and ``bf16``
    (autocast; the weights and the optimiser stay float32) are how a run is made, not what
    it learns, so they are not part of the recipe: a run may resume on another device."""
    if device not in ("cpu", "cuda"):
        raise BadInput(f"--device must be cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda: no CUDA device is visible; use --device cpu")
    t = recipe["train"]
    if t.get("sized_for", device) != device:
        raise BadInput(f"recipe {recipe['name']} is sized for --device {t['sized_for']} (its budget would take "
                       f"days on --device {device}); run it with --device {t['sized_for']} --bf16, or check it "
                       "here with --dry-run")
    if threads:
        torch.set_num_threads(threads)
    stages = training_stages(recipe["data"], recipe["tokenizer"], t["length"], t["steps"])  # bad data: fail before writing
    held_out = held_out_source(recipe["data"], recipe["tokenizer"])
    tested_at = test_length(recipe, held_out)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(recipe, pe, held_out.vocab_size, tested_at).to(device)
    model.train()
    optimizer = make_optimizer(model, t, fused=device == "cuda")
    generator = torch.Generator().manual_seed(t["seed"])
    step, targets, curve = 0, 0, []
    state_path = out / STATE_FILE
    if state_path.exists():
        previous = peek_state(state_path)
        if previous.recipe != yaml.safe_dump(recipe) or previous.pe != pe:
            raise BadInput(f"{state_path} was made by a different recipe or --pe; use another --out or delete it")
        resumed = load_state(state_path, model, optimizer, generator)
        step, targets, curve = resumed.step, resumed.targets, resumed.curve
        print(f"pope-bench: resuming {out} at step {step}", file=sys.stderr)

    (out / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    (out / "train_command.txt").write_text(shlex.join(["pope-bench", *sys.argv[1:]]) + "\n")
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("loss {task.fields[loss]:.3f}  {task.fields[tps]:,.0f} tok/s"), TimeRemainingColumn()]
    with Progress(*columns, transient=False) as progress:
        bar = progress.add_task(f"train {recipe['name']} ({pe})", total=t["steps"], completed=step, loss=float("nan"), tps=0)
        tic, window_loss, window_steps, window_tokens = time.perf_counter(), 0.0, 0, 0
        while step < t["steps"]:
            lr = lr_at(step, t)
            for group in optimizer.param_groups:
                group["lr"] = lr
            _, source, length = next(stage for stage in stages if stage[0] is None or step < stage[0])
            x, y = (part.to(device) for part in source.sample_batch(generator, t["batch_size"], length))
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                loss = model(x, labels=y, use_cache=False).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
            optimizer.step()
            step += 1
            targets += int((y[:, 1:] != -100).sum())
            window_loss += loss.item()
            window_steps += 1
            window_tokens += x.numel()
            elapsed = time.perf_counter() - tic
            progress.update(bar, completed=step, loss=loss.item(), tps=window_tokens / elapsed)
            if step % t["eval_every"] == 0 or step == t["steps"]:
                curve.append({
                    "step": step, "targets": targets, "lr": lr, "train_loss": window_loss / window_steps,
                    "tokens_per_s": window_tokens / elapsed,
                    **validation_row(model, held_out, t, tested_at),
                })
                write_curve(out / "training_curve.csv", curve)
                progress.console.print(", ".join(f"{k} {v:.4g}" for k, v in curve[-1].items()))
                tic, window_loss, window_steps, window_tokens = time.perf_counter(), 0.0, 0, 0
            if step % t["checkpoint_every"] == 0 and step < t["steps"]:
                save_state(state_path, model, optimizer, generator,
                           TrainState(step=step, targets=targets, curve=curve, recipe=yaml.safe_dump(recipe), pe=pe))
    model.save_pretrained(out)
    state_path.unlink(missing_ok=True)
    return out


def write_curve(path: Path, curve: list[dict]) -> None:
    """The curve so far (rewritten at every evaluation, so a running training can be watched)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(curve[0]))
        writer.writeheader()
        writer.writerows(curve)
