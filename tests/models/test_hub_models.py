"""The transformers route: a Llama-architecture causal LM saved with save_pretrained (the
same files a hub download leaves on disk) runs through the registry, the loader and a
sweep as `--model DIR` and as a `base:` variant with eval-time RoPE scaling, and a
`pope-bench tasks new` starter runs as written."""

import pytest
import torch
import yaml

from pope_bench.models.checkpoints import entry_for, load_registry
from pope_bench.models.loading import hf_scaling_parameters, load_model
from pope_bench.sweep import results
from pope_bench.sweep.runner import RunOptions, run
from pope_bench.tasks.starter import write_starter


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    from pope_bench.data.gpt2_tokenizer import gpt2_tokenizer

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = gpt2_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_bare_folder_is_a_rope_text_model(llama_dir):
    entry = entry_for(str(llama_dir), {})
    assert (entry.pe, entry.tokenizer, entry.train_length, entry.domain) == ("rope", "hf", 64, "text")


def test_yarn_variant_of_a_hub_model_changes_its_rotary_frequencies(llama_dir, tmp_path):
    registry = tmp_path / "c.yaml"
    registry.write_text(yaml.safe_dump({"models": {
        "llama": {"path": str(llama_dir), "pe": "rope", "train_length": 64, "tokenizer": "hf"},
        "llama-yarn4": {"base": "llama", "rope_scaling": {"type": "yarn", "factor": 4}},
    }}))
    entries = load_registry(registry)
    cpu = torch.device("cpu")
    plain = load_model(entries["llama"], None, cpu, torch.float32)
    scaled = load_model(entries["llama-yarn4"], entries["llama-yarn4"].scaling_for(256), cpu, torch.float32)
    assert scaled.model.config.rope_parameters["rope_type"] == "yarn"
    assert scaled.model.config.rope_parameters["original_max_position_embeddings"] == 64
    ids = torch.randint(0, 50257, (1, 200))
    with torch.no_grad():
        assert not torch.allclose(plain.model(ids).logits, scaled.model(ids).logits)
    assert plain.fingerprint != scaled.fingerprint


def test_static_ntk_maps_to_a_rescaled_theta(llama_dir):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(llama_dir)
    params = hf_scaling_parameters(config, {"type": "ntk", "factor": 4.0})
    head_dim = 16
    assert params == {"rope_type": "default", "rope_theta": 10_000.0 * 4.0 ** (head_dim / (head_dim - 2))}


def test_sweep_over_a_hub_style_model_with_its_own_tokenizer(llama_dir, tmp_path):
    stats = run(RunOptions(models=[str(llama_dir)], tasks=["perplexity_text"], lengths="1x,2x", limit=256,
                           out=tmp_path / "r", checkpoints=tmp_path / "none.yaml"))
    assert stats["done"] == 2 and stats["failed"] == 0
    frame = results.load(tmp_path / "r")
    main = frame[frame["metric"] == "perplexity"]
    assert set(main["length"]) == {64, 128}
    assert (main["value"] > 1000).all()  # a random 50k-vocabulary model
    bpb = frame[frame["metric"] == "bits_per_byte"]["value"]
    assert (bpb > 1).all()  # bytes come from the BPE tokens' own lengths


def test_starter_task_runs_as_written(tiny_registry, tmp_path):
    path = write_starter("my_task", tmp_path / "my_tasks")
    assert "type: perplexity" in path.read_text()
    stats = run(RunOptions(models=["pope-tiny"], tasks=["my_task"], tasks_dirs=[tmp_path / "my_tasks"], limit=128,
                           out=tmp_path / "r", checkpoints=tiny_registry))
    assert stats["done"] == 4 and stats["failed"] == 0  # its default lengths 1x..4x
    frame = results.load(tmp_path / "r")
    assert set(frame["window"].dropna()) == {"sliding"}


def test_device_map_and_attention_implementation_reach_a_hub_model(llama_dir, tmp_path):
    pytest.importorskip("accelerate")
    entry = entry_for(str(llama_dir), {})
    cpu = torch.device("cpu")
    plain = load_model(entry, None, cpu, torch.bfloat16)
    mapped = load_model(entry, None, cpu, torch.bfloat16, device_map="auto", attn_implementation="eager")
    assert plain.model.config._attn_implementation == "sdpa"  # auto, without flash_attn on a GPU
    assert mapped.model.config._attn_implementation == "eager"
    assert {p.device for p in mapped.model.parameters()} == {cpu} and mapped.device == cpu  # one device: no hooks
    assert {p.dtype for p in mapped.model.parameters()} == {torch.bfloat16}  # loaded in the target dtype
    ids = torch.randint(0, 50257, (1, 48))
    with torch.no_grad():
        torch.testing.assert_close(plain.model(ids).logits, mapped.model(ids).logits, atol=2e-2, rtol=2e-2)


def test_device_map_refuses_a_model_that_cannot_be_split(tmp_path):
    pytest.importorskip("accelerate")
    from transformers import RoFormerConfig

    from pope_bench.core.errors import BadInput

    folder = tmp_path / "roformer"
    RoFormerConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                   is_decoder=True).save_pretrained(folder)
    with pytest.raises(BadInput, match="declares no blocks to split"):
        run(RunOptions(models=[str(folder)], tasks=["perplexity_text"], lengths="1x", out=tmp_path / "r",
                       checkpoints=tmp_path / "none.yaml", device_map="auto"))
    assert not (tmp_path / "r").exists()
