"""Every results table in the README is `pope-bench table … --format markdown` output,
pasted under the command that prints it: regenerated here from the committed rows."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"from `(pope-bench table [^`]+)`:\n\n")
#: the header row of a results table: "| task: metric | length | …"
HEADER = re.compile(r"^\| [\w.-]+: [^|]+ \| \d+", re.M)


def pasted(text: str):
    for match in COMMAND.finditer(text):
        yield match.group(1), text[match.end():]


@pytest.mark.parametrize("readme", ["README.md", "results/README.md"])
def test_every_pasted_table_is_what_its_command_prints(cli, monkeypatch, readme):
    monkeypatch.chdir(ROOT)
    text = (ROOT / readme).read_text()
    found = list(pasted(text))
    if readme == "README.md":
        assert len(found) >= 2  # the default suite and the perplexity grid
    printed = 0
    for command, after in found:
        code, out, err = cli(*shlex.split(command)[1:])
        assert code == 0, err
        assert after.startswith(out.rstrip("\n") + "\n"), f"README table under `{command}` is stale"
        printed += len(HEADER.findall(out))
    # no results table typed by hand: every table of a task's metric is one a command printed
    assert len(HEADER.findall(text)) == printed
