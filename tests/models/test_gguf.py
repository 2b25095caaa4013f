"""The GGUF route without a download: a tiny Llama (grouped-query attention, tied
embeddings) written to a ``.gguf`` file by the ``gguf`` package here, with GPT-2's
tokenizer inside, loads through ``-m FILE.gguf`` with the same logits and the same token
ids as the model it was written from; it is converted once (keyed by the file's sha256);
and every bad file, a missing extra and the package route offline are one line, exit 2."""

import numpy as np
import pytest
import torch
import yaml

from pope_bench.data.packages import sha256_of
from pope_bench.models import gguf as gguf_route
from pope_bench.models.checkpoints import entry_for, load_registry
from pope_bench.models.loading import load_model

gguf = pytest.importorskip("gguf")

HEADS, KV_HEADS, HIDDEN, CONTEXT = 4, 2, 32, 64


def _permute(weight: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp's row order for q/k (pairs → halves), which transformers undoes on load."""
    return weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def write_gguf(path, model, tokenizer, arch: str = "llama") -> None:
    config = model.config
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(config.num_hidden_layers)
    w.add_context_length(CONTEXT)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_freq_base(10_000.0)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_layer_norm_rms_eps(config.rms_norm_eps)
    w.add_vocab_size(config.vocab_size)
    w.add_file_type(0)  # all float32
    backend = yaml.safe_load(tokenizer.backend_tokenizer.to_str())["model"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt2")
    tokens = sorted(backend["vocab"], key=backend["vocab"].get) + ["<|endoftext|>"]
    w.add_token_list(tokens)
    w.add_token_types([1] * (len(tokens) - 1) + [3])
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in backend["merges"]])
    w.add_bos_token_id(len(tokens) - 1)
    w.add_eos_token_id(len(tokens) - 1)
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", state["model.embed_tokens.weight"])
    w.add_tensor("output_norm.weight", state["model.norm.weight"])
    for i in range(config.num_hidden_layers):
        for ours, theirs in names.items():
            weight = state[f"model.layers.{i}.{ours}.weight"]
            if theirs in ("attn_q", "attn_k"):
                weight = _permute(weight, HEADS if theirs == "attn_q" else KV_HEADS)
            w.add_tensor(f"blk.{i}.{theirs}.weight", np.ascontiguousarray(weight))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def source():
    """The tiny Llama (GQA: 4 query / 2 KV heads; tied embeddings) and GPT-2's tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from pope_bench.data.gpt2_tokenizer import gpt2_tokenizer

    tokenizer = gpt2_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=CONTEXT,
                         tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval(), tokenizer


@pytest.fixture(scope="module")
def gguf_file(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf"
    write_gguf(path, *source)
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """Converted folders in a fresh cache (the data packages stay in the user's)."""
    monkeypatch.setattr(gguf_route, "cache_dir", lambda: tmp_path / "cache")
    return tmp_path / "cache"


def test_a_gguf_file_is_a_rope_model_with_its_trained_context(gguf_file):
    entry = entry_for(str(gguf_file), {})
    assert (entry.name, entry.pe, entry.train_length, entry.tokenizer) == ("tiny-llama", "rope", CONTEXT, "hf")


def test_converted_model_has_the_source_logits_and_tokenizer(source, gguf_file, cache):
    model, tokenizer = source
    entry = entry_for(str(gguf_file), {})
    entry.path = gguf_route.local_folder(entry)
    assert entry.path == cache / "gguf" / sha256_of(gguf_file)[:16]
    lm = load_model(entry, None, torch.device("cpu"), torch.float32)
    text = "In the beginning God created the heaven and the earth."
    assert lm.tokenizer(text).input_ids == tokenizer(text).input_ids
    ids = torch.tensor([tokenizer(text).input_ids])
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, model(ids).logits, atol=1e-5, rtol=1e-5)


def test_conversion_happens_once(gguf_file, cache, monkeypatch):
    first = gguf_route.converted_folder(gguf_file)

    def no_second_conversion(*args):
        raise AssertionError("converted again")

    monkeypatch.setattr(gguf_route, "_convert", no_second_conversion)
    assert gguf_route.converted_folder(gguf_file) == first


def test_sweep_over_a_gguf_file(cli, gguf_file, cache, tmp_path):
    code, out, err = cli("run", "-m", gguf_file, "-t", "perplexity_text", "--lengths", "1x", "--limit", "64",
                         "--out", tmp_path / "r", "--checkpoints", tmp_path / "none.yaml", "--no-plot")
    assert code == 0, err
    rows = (tmp_path / "r" / "results.jsonl").read_text().splitlines()
    assert rows and all('"status": "ok"' in r for r in rows)


def _one_line_refusal(cli, tmp_path, model, needle, registry=None, env=None):
    out = tmp_path / "never"
    code, _, err = cli("run", "-m", model, "-t", "perplexity_text", "--lengths", "1x", "--limit", "64",
                       "--out", out, "--checkpoints", registry or tmp_path / "none.yaml", env=env)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and needle in errors[0], err
    assert not out.exists()


def test_truncated_gguf_is_refused(cli, gguf_file, cache, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf_file.read_bytes()[: gguf_file.stat().st_size // 2])
    _one_line_refusal(cli, tmp_path, cut, "not a complete GGUF file")


def test_not_a_gguf_and_missing_gguf_are_refused(cli, cache, tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_text("hello")
    _one_line_refusal(cli, tmp_path, fake, "is not a GGUF file")
    _one_line_refusal(cli, tmp_path, tmp_path / "absent.gguf", "does not exist")


def test_unsupported_architecture_is_refused(cli, cache, tmp_path):
    path = tmp_path / "odd.gguf"
    w = gguf.GGUFWriter(str(path), "nonesuch")
    w.add_context_length(CONTEXT)
    w.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    _one_line_refusal(cli, tmp_path, path, "architecture 'nonesuch' is not one transformers can convert")


def test_without_the_extra_gguf_is_refused(cli, gguf_file, cache, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "gguf", None)
    _one_line_refusal(cli, tmp_path, gguf_file, "pip install 'pope-bench[gguf]'")


def test_package_route_offline_is_refused(cli, cache, tmp_path, monkeypatch):
    from pope_bench.data import packages

    monkeypatch.setattr(packages, "cache_dir", lambda: tmp_path / "cache")
    registry = tmp_path / "c.yaml"
    registry.write_text(yaml.safe_dump({"models": {"pkg": {
        "gguf_file": "pkg/model.gguf", "pe": "rope", "train_length": 64,
        "pypi": {"name": "pope-bench-absent", "version": "0.0.1", "filename": "pope_bench_absent-0.0.1-py3-none-any.whl",
                 "sha256": "0" * 64}}}}))
    assert load_registry(registry)["pkg"].source == "pypi:pope-bench-absent==0.0.1/pkg/model.gguf"
    _one_line_refusal(cli, tmp_path, "pkg", "could not download pope-bench-absent==0.0.1", registry=registry,
                      env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""})
