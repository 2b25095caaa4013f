"""Every document and source file the project cites is in the repository: users get the
repository, not the team's design notes."""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TRACKED = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
TEXT = [REPO / f for f in TRACKED
        if Path(f).suffix in {".py", ".md", ".yaml", ".toml", ".ipynb", ".txt"} and not f.startswith("results/")
        and f != "tests/core/test_docs.py"]


def cited(pattern: str) -> set[tuple[str, str]]:
    found = set()
    for path in TEXT:
        if path.is_file():
            for match in re.findall(pattern, path.read_text(errors="replace")):
                found.add((str(path.relative_to(REPO)), match))
    return found


def test_no_citation_of_documents_outside_the_repository():
    # the design notes (DESIGN.md, paper.md) are the team's; the repository's own copies of
    # what the code relies on are docs/contracts.md and docs/data-sources.md
    assert cited(r"(?<![\w/])(?:DESIGN|paper)\.md") == set()
    bare = {(f, m) for f, m in cited(r"(?<![\w/(])data-sources\.md")}
    assert bare == set()


def test_cited_docs_and_source_files_exist():
    docs = {m for _, m in cited(r"docs/[\w-]+\.md")}
    sources = {m for _, m in cited(r"pope_bench/[\w/]+\.(?:py|yaml)")}
    missing = sorted(p for p in docs | sources if not (REPO / p).exists() and "*" not in p)
    assert missing == []
