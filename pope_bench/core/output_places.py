"""The one check of an output place, run by every command that writes (``run``, ``train``,
``plot``, ``figures``, ``training-curves``, ``tasks new``) before it does any work, so a
refused command leaves no new file or folder and a doomed one fails in a second, not after
an hour of compute: the place is a folder or can be one, its name is UTF-8 and within the
file system's limits, and the nearest existing folder above it is writable.

What no check can foresee — the disk filling up, a file system turning read-only — is
:func:`write_failure`'s one line (the CLI's contract); writers keep what is already written
intact (rows are appended and fsync'ed, every other file is written beside and renamed).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from pope_bench.core.errors import BadInput

#: the longest file name (one path component, in bytes) and path that Linux and macOS take
NAME_MAX, PATH_MAX = 255, 4096
#: the longest name a command adds inside an output folder (``results.shard-I-of-N.jsonl.tmp`` …)
ROOM = 64


def check_output_dir(path: Path, option: str) -> Path:
    """``path`` if a command may write its files in it (creating it then), else one line."""
    path = Path(path)
    text = str(path)
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{option} {text.encode('utf-8', 'backslashreplace').decode()!r} is not UTF-8 text; "
                       "choose a name in UTF-8") from None
    if not text.strip():
        raise BadInput(f"{option} is empty; give a folder")
    if any(len(part.encode("utf-8")) > NAME_MAX for part in path.parts):
        raise BadInput(f"{option} {text[:60]}…: a folder name is longer than {NAME_MAX} bytes; choose a shorter one")
    if len(os.path.abspath(encoded)) + ROOM > PATH_MAX:
        raise BadInput(f"{option} {text[:60]}…: the path is too long (over {PATH_MAX - ROOM} bytes); choose a shorter one")
    if path.exists() and not path.is_dir():
        raise BadInput(f"{option} {path} is a file; give a folder (it is created if missing)")
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{option} {path} is not writable ({existing} is a file, so no folder can be made under "
                       "it); choose another folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInput(f"{option} {path} is not writable ({existing} does not let you write); choose another folder")
    return path


#: what a full or read-only disk says
WRITE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                errno.EROFS: "the file system is read-only"}


def write_failure(error: OSError) -> str | None:
    """The one line for an OSError that means the output place cannot take more, else None."""
    if error.errno not in WRITE_ERRORS:
        return None
    where = f" writing {error.filename}" if error.filename else ""
    return (f"{WRITE_ERRORS[error.errno]}{where}; what was written before is kept — free space or choose another "
            "output folder, then rerun the same command")
