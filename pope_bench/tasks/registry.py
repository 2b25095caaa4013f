"""Where tasks come from, in order:

1. built-in definitions: the repository's ``tasks/*.yaml`` (shipped inside the wheel as
   ``pope_bench/tasks/builtin``, a link to that folder);
2. each ``--tasks-dir DIR`` a user passes;
3. installed packages' entry points in the group ``pope_bench.tasks``: each loads to a
   callable returning task definitions (dicts with the YAML fields) or a folder path.

A user's task (2 or 3) with a built-in's name replaces the built-in, and says so in a
note; two user tasks with one name are an error — never a silent choice.

A definition's ``type`` is a built-in task type name or ``package.module:Class`` for a
plugin's own :class:`~pope_bench.tasks.base.TaskType`. A file or plugin that fails to load
is named in a warning and skipped; the other tasks keep working.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from pope_bench.core.errors import BadInput, closest
from pope_bench.core.schema import read_yaml
from pope_bench.tasks.base import TaskDefinition, TaskType

ENTRY_POINT_GROUP = "pope_bench.tasks"

TASK_TYPES = {
    "perplexity": "pope_bench.tasks.perplexity:PerplexityTask",
    "indexing": "pope_bench.tasks.indexing:IndexingTask",
    "last_word_cloze": "pope_bench.tasks.cloze:LastWordClozeTask",
    "multiple_choice": "pope_bench.tasks.choice:MultipleChoiceTask",
    "minimal_pairs": "pope_bench.tasks.minimal_pairs:MinimalPairsTask",
    "candidate_cloze": "pope_bench.tasks.candidate_cloze:CandidateClozeTask",
    "passkey": "pope_bench.tasks.passkey:PasskeyTask",
    "ruler": "pope_bench.tasks.ruler:RulerTask",
    "frequency_usage": "pope_bench.tasks.analysis:FrequencyUsageTask",
    "learned_delta": "pope_bench.tasks.analysis:LearnedDeltaTask",
}


def task_type_class(type_name: str) -> type[TaskType]:
    target = TASK_TYPES.get(type_name, type_name)
    if ":" not in target:
        raise BadInput(f"unknown task type {type_name!r}{closest(type_name, TASK_TYPES)}; "
                       f"known: {', '.join(TASK_TYPES)} or package.module:Class")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (Exception, SystemExit) as e:  # the plugin's own import error, whatever it is (sys.exit() too)
        raise BadInput(f"task type {type_name!r} failed to import ({type(e).__name__}: {e}); fix or remove the plugin") from None
    if not (isinstance(cls, type) and issubclass(cls, TaskType)):
        raise BadInput(f"task type {type_name!r} is not a pope_bench TaskType subclass")
    if cls.__abstractmethods__:
        raise BadInput(f"task type {type_name!r} does not implement {', '.join(sorted(cls.__abstractmethods__))} "
                       "(every TaskType provides estimated_tokens, examples and score); add them to the plugin")
    return cls


def read_task_file(path: Path) -> TaskDefinition:
    return TaskDefinition.parse(read_yaml(path, "task file"), str(path))


def builtin_tasks_dir() -> Path:
    return Path(str(resources.files("pope_bench.tasks") / "builtin"))


@dataclass
class TaskRegistry:
    definitions: dict[str, TaskDefinition] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: by task name: "user task X replaces the built-in" notes, printed by `run` and `list tasks`
    notes: dict[str, str] = field(default_factory=dict)
    builtin: set[str] = field(default_factory=set)

    def add(self, definition: TaskDefinition, builtin: bool = False) -> None:
        name = definition.name
        if name in self.definitions:
            first = self.definitions[name].origin
            if name not in self.builtin:
                raise BadInput(f"task {name!r} is defined twice ({first} and {definition.origin}); rename one")
            self.builtin.discard(name)
            self.notes[name] = f"task {name!r} from {definition.origin} replaces the built-in one"
        elif builtin:
            self.builtin.add(name)
        self.definitions[name] = definition

    def add_folder(self, folder: Path, builtin: bool = False) -> None:
        """Every ``*.yaml`` of a folder. A user's folder must load whole: a broken task file
        there is a one-line error (it is what the user is about to run); a broken
        plugin elsewhere is only a warning."""
        if not folder.is_dir():
            raise BadInput(f"--tasks-dir {folder} is not a folder")
        for path in sorted(folder.glob("*.yaml")):
            self.add(read_task_file(path), builtin)

    def add_entry_points(self) -> None:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = f"entry point {ep.name} ({ep.value})"
            try:
                provided = ep.load()
                provided = provided() if callable(provided) else provided
                if isinstance(provided, (str, Path)):
                    self.add_folder(Path(provided))
                    continue
                for item in provided:
                    self.add(TaskDefinition.parse(item, origin))
            except (Exception, SystemExit) as e:  # a plugin's failure (sys.exit() too) must not take the others down
                package = ep.dist.name if ep.dist else ep.value
                self.problems.append(f"{origin} of package {package!r} failed: {type(e).__name__}: {e}")

    def build(self, name: str) -> TaskType:
        if name not in self.definitions:
            hint = f"; {len(self.problems)} task source(s) failed to load: " + " | ".join(self.problems) if self.problems else ""
            raise BadInput(f"unknown task {name!r}{closest(name, self.definitions)}; see `pope-bench list tasks`{hint}")
        definition = self.definitions[name]
        return task_type_class(definition.type)(definition)


def discover(tasks_dirs: list[Path] = ()) -> TaskRegistry:
    registry = TaskRegistry()
    registry.add_folder(builtin_tasks_dir(), builtin=True)
    for folder in tasks_dirs:
        registry.add_folder(Path(folder))
    registry.add_entry_points()
    return registry
