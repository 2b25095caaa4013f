"""The genome domain (paper §3.2): human DNA and the Nucleotide Transformer's 6-mer tokens.

Corpus ``grch37_chrx``: human reference GRCh37 chromosome X, its first 70 Mbp (66.2M
non-N bases), as shipped in Debian's ``smalt-examples`` (``hs37chrXtrunc.fa.gz``) — the
offline stand-in for the paper's whole human reference genome (docs/data-sources.md). The N-free
stretches are cut into 100 kbp documents in chromosome order (a stretch's remainder under
100 kbp is dropped); every 10th document (index 9, 19, …) is held out for testing, so a
prefix of the chromosome already holds both splits in the 9 : 1 ratio and a capped read
(``limit``) gives the same documents as a full one. A document's text is its uppercase
nucleotide string; its name is its 1-based inclusive span, ``chrX:60001-160000``.

Tokenizer ``dna6`` (the Nucleotide Transformer's, which the paper used): non-overlapping
6-mers, single nucleotides for a stretch's last < 6 bases and around each N, and the
special tokens, with the NT v2 vocabulary order — ``<unk> <pad> <mask> <cls> <eos> <bos>``
(0–5), the 4,096 6-mers in A, T, C, G product order (6–4101), then A, T, C, G, N
(4102–4106): 4,107 tokens, the paper's vocabulary size.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pope_bench.core.errors import BadInput
from pope_bench.data.corpora import Document
from pope_bench.data.packages import cache_dir, sha256_of

FASTA_NAME = "hs37chrXtrunc.fa.gz"
FASTA_SHA256 = "01fe793d0b77f91fa9d2edb8b269d9bc480cf71df469dce4be6e45bec25c749a"
DEBIAN_PACKAGE = "smalt-examples"
#: where the file lies once the Debian package is installed (it is used from there if so)
INSTALLED_FASTA = Path("/usr/share/doc/smalt/test/data") / FASTA_NAME
CHUNK = 100_000
TEST_EVERY = 10

SPECIALS = ("<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>")
NUCLEOTIDES = "ATCG"
KMER = 6


def fasta_path() -> Path:
    """The cached, checksum-verified FASTA file, taken from the Debian package first if needed."""
    path = cache_dir() / "debian" / DEBIAN_PACKAGE / FASTA_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            source = INSTALLED_FASTA if INSTALLED_FASTA.exists() else _extract_from_deb(Path(tmp))
            shutil.copyfile(source, Path(tmp) / FASTA_NAME)
            os.replace(Path(tmp) / FASTA_NAME, path)  # nothing half-written under the final name
    digest = sha256_of(path)
    if digest != FASTA_SHA256:
        raise BadInput(
            f"{path} fails its checksum (sha256 {digest[:12]}…, expected {FASTA_SHA256[:12]}…); "
            "delete it and rerun to extract it again"
        )
    return path


def _extract_from_deb(tmp: Path) -> Path:
    print(f"pope-bench: downloading Debian package {DEBIAN_PACKAGE} (72 MB) for corpus grch37_chrx", file=sys.stderr)
    show = dict(cwd=tmp, stdout=sys.stderr, stderr=subprocess.STDOUT, check=True)
    try:
        if subprocess.run(["apt-get", "download", DEBIAN_PACKAGE], cwd=tmp, capture_output=True).returncode != 0:
            # a fresh machine has no package lists yet: fetch them once (needs root), then retry
            subprocess.run(["apt-get", "update"], **show)
            subprocess.run(["apt-get", "download", DEBIAN_PACKAGE], **show)
        subprocess.run(["dpkg-deb", "-x", str(next(tmp.glob(f"{DEBIAN_PACKAGE}_*.deb"))), "x"], **show)
        return tmp / "x" / INSTALLED_FASTA.relative_to("/")
    except (OSError, subprocess.CalledProcessError, StopIteration):
        raise BadInput(
            f"no route to the grch37_chrx corpus: `apt-get download {DEBIAN_PACKAGE}` failed (needs Debian's apt "
            f"and a prior `apt-get update`); or extract {INSTALLED_FASTA} from that package by hand into "
            f"{cache_dir() / 'debian' / DEBIAN_PACKAGE}"
        ) from None


def stretches(path: Path) -> Iterator[tuple[int, str]]:
    """(0-based start, sequence) of every 100 kbp piece of N-free sequence, in order."""
    with gzip.open(path, "rt", encoding="ascii") as f:
        f.readline()  # the FASTA header
        carry, position = "", 0  # carry: the N-free tail of the text read so far
        for block in iter(lambda: f.read(1 << 22), ""):
            block = block.replace("\n", "")
            text, text_start = carry + block, position - len(carry)
            position += len(block)
            carry = ""
            for run in re.finditer(r"[ACGT]+", text):
                start, seq = text_start + run.start(), run.group()
                whole = len(seq) // CHUNK * CHUNK
                for offset in range(0, whole, CHUNK):
                    yield start + offset, seq[offset : offset + CHUNK]
                if run.end() == len(text):  # the run may go on in the next block
                    carry = seq[whole:]


def chrx_documents(split: str) -> Iterator[Document]:
    """The split's documents in chromosome order, read lazily (stop early to read less)."""
    if split not in ("train", "test"):
        raise BadInput(f"corpus grch37_chrx has splits train and test, not {split!r}")
    for index, (start, seq) in enumerate(stretches(fasta_path())):
        if (index % TEST_EVERY == TEST_EVERY - 1) == (split == "test"):
            yield Document(f"chrX:{start + 1}-{start + len(seq)}", seq, split)


class Dna6Tokenizer:
    """Nucleotide-Transformer 6-mers. A blank line separates sequences and becomes
    ``<eos>`` (so joined documents stay apart); other whitespace (FASTA line breaks) is
    ignored; lowercase (soft-masked) bases count as uppercase; other letters are refused."""

    name = "dna6"

    def __init__(self):
        kmers = ["".join(p) for p in itertools.product(NUCLEOTIDES, repeat=KMER)]
        self.vocab = [*SPECIALS, *kmers, *NUCLEOTIDES, "N"]
        self.ids = {token: i for i, token in enumerate(self.vocab)}
        self.eos = self.ids["<eos>"]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for n, sequence in enumerate(re.split(r"\n[^\S\n]*\n\s*", text)):
            if n:
                ids.append(self.eos)
            sequence = re.sub(r"\s+", "", sequence).upper()
            bad = re.search(r"[^ACGTN]", sequence)
            if bad:
                raise BadInput(f"character {bad.group()!r} is not a nucleotide (A, C, G, T, N) of 'dna6'")
            for m, part in enumerate(sequence.split("N")):  # N is always a token of its own
                if m:
                    ids.append(self.ids["N"])
                whole = len(part) // KMER * KMER
                ids.extend(self.ids[part[i : i + KMER]] for i in range(0, whole, KMER))
                ids.extend(self.ids[base] for base in part[whole:])
        return ids

    def decode(self, ids) -> str:
        return "".join("\n\n" if int(i) == self.eos else self.vocab[int(i)] for i in ids)
