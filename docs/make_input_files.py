"""Regenerate docs/input-files.md from the schema classes: python docs/make_input_files.py"""

from pathlib import Path

HEADER = """# Input files: one schema each

Every input file kind has one pydantic schema (`extra="forbid"`) that owns its fields,
types, ranges and defaults; the YAML files never restate a default. An unknown key is a
one-line error naming the file, the key and the closest valid key (exit code 2). This page
is generated from the classes (`python docs/make_input_files.py`; a test checks it is
current), so the defaults below are the classes' own.

- **Registry entry** (`checkpoints.yaml`, under `models:`): a native checkpoint or hub model,
  or a variant (`base:` + `rope_scaling:`).
- **Task definition** (`tasks/*.yaml`, `--tasks-dir`, `pope_bench.tasks` entry points): the
  file, and the `params` of its type. A plugin's TaskType declares `Params` the same way.
- **Recipe** (`pope_bench/training/recipes/*.yaml`, `pope-bench train RECIPE --set section.key=value`).
- **Figure spec** (`pope_bench/report/figures/specs/*.yaml`, `pope-bench figures cp NAME`).
- **Encoding fields**: each encoding class's `Fields` (`pope-bench list encodings`).
- **Suite** (`pope_bench/sweep/suites/*.yaml`, `pope-bench run --suite FILE.yaml`, any `name:`).
- **Rows and manifests** a results folder holds (`results*.jsonl`, `manifest.json`): checked
  when `run`, `plot` or `figures` reads a folder, whoever wrote it.

Every one of these files is read the same way (`pope_bench/core/schema.py`): it must be a regular
file (a named pipe or a device is refused, never waited on), UTF-8, at most 16 MiB (rows
files 2 GiB), and a YAML file's aliases (`&a` / `*a`) may expand to at most 200,000 values.
Every command that writes (`run`, `train`, `plot`, `figures`, `training-curves`, `tasks new`)
checks its output folder before any work — not a file, writable, UTF-8, names within the file
system's limits — and a disk that fills up or turns read-only mid-command is one line that
says what was kept (exit 2), so a refused command leaves no new file or folder.

"""


def schemas() -> dict:
    from pope_bench.core.scaling import Scaling
    from pope_bench.data.user_corpus import HubCorpus, LocalCorpus
    from pope_bench.models.checkpoints import ModelEntry, PypiSource, VariantSpec
    from pope_bench.report.figures.specs import Column, FigureSpec, PaperNumber
    from pope_bench.sweep.manifest import Manifest, RunRecord
    from pope_bench.sweep.rows import Row
    from pope_bench.sweep.suites import Suite, Sweep
    from pope_bench.tasks.analysis import FrequencyUsageParams
    from pope_bench.tasks.base import TaskDefinition, TaskParams
    from pope_bench.tasks.downstream import DownstreamParams
    from pope_bench.tasks.indexing import IndexingParams
    from pope_bench.tasks.passkey import PasskeyParams
    from pope_bench.tasks.perplexity import PerplexityParams
    from pope_bench.training.recipe import (
        CurriculumStage,
        DataSection,
        ModelSection,
        Recipe,
        TrainSection,
    )

    return {
        "Registry entry": ModelEntry, "Registry variant": VariantSpec, "rope_scaling": Scaling,
        "registry pypi source": PypiSource,
        "Task file": TaskDefinition, "Params of every task type": TaskParams, "perplexity params": PerplexityParams,
        "corpus: your files": LocalCorpus, "corpus: a hub dataset": HubCorpus,
        "indexing params": IndexingParams, "downstream params (last_word_cloze, multiple_choice, minimal_pairs, "
        "candidate_cloze)": DownstreamParams, "passkey params": PasskeyParams,
        "frequency_usage params": FrequencyUsageParams, "Recipe": Recipe, "recipe data": DataSection,
        "recipe curriculum stage": CurriculumStage, "recipe model": ModelSection, "recipe train": TrainSection,
        "Figure spec": FigureSpec, "figure table column": Column, "figure paper number": PaperNumber,
        "Suite": Suite, "suite sweep": Sweep, "Result row": Row, "Manifest": Manifest, "manifest run": RunRecord,
    }


def render() -> str:
    from pope_bench.core.schema import reference

    return HEADER + reference(schemas())


if __name__ == "__main__":
    target = Path(__file__).with_name("input-files.md")
    target.write_text(render())
    print(target)
