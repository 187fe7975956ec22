"""Contract tests over every registered encoder, with the real packaged models."""

import numpy as np
import pytest

from superalign.data.registry import load_task
from superalign.errors import SuperalignError
from superalign.models import packaged
from superalign.models.encoder import encoder_names, get_encoder

SLOW = {"gemma-270m", "smollm2-135m", "qwen-0.5b", "efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"}
# qwen-1.5b runs the same code as qwen-0.5b (a packaged GGUF's hidden states); dequantizing it costs ~2 minutes
# and 12 GB of memory, so the contract is checked on the 0.5B model only.
CONTRACT = [n for n in encoder_names() if n != "qwen-1.5b"] + ["pca:5"]
LLM_EXTRA = {"qwen-0.5b"}  # needs the LLM extra's packages (make llm)


def _inputs_for(encoder):
    if "text" in encoder.modalities:
        return load_task("bbc-news").subsample(40).inputs
    return load_task("digits").subsample(40).inputs


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CONTRACT])
def test_encoder_contract(name):
    from superalign.errors import MissingDependencyError

    encoder = get_encoder(name)
    inputs = _inputs_for(encoder)
    if name in LLM_EXTRA:
        try:
            encoder.path
        except MissingDependencyError as exc:
            pytest.skip(str(exc))
    seen = []
    features = encoder.encode(inputs, progress=seen.append)
    assert features.shape[0] == len(inputs) and features.ndim == 2 and features.shape[1] >= 5
    assert features.dtype == np.float32 and np.isfinite(features).all()
    assert sum(seen) == len(inputs)  # progress reports every input
    assert features.std(0).max() > 0  # not constant
    again = get_encoder(name).encode(inputs)
    np.testing.assert_allclose(features, again, rtol=1e-4, atol=1e-4)  # deterministic
    assert get_encoder(name).identity() == encoder.identity()
    assert encoder.n_params() >= 0


def test_ladder_is_ordered_by_parameter_count():
    sizes = [get_encoder(n).n_params() for n in ["minilm-l3", "minilm-l6", "mpnet"]]
    assert sizes == sorted(sizes) and sizes[0] > 10e6


def test_ours_matches_sentence_transformers_encode():
    from sentence_transformers import SentenceTransformer

    texts = load_task("bbc-news").subsample(64).inputs
    ours = get_encoder("minilm-l6").encode(texts)
    ref = SentenceTransformer(str(packaged.minilm_l6_dir()), device="cpu").encode(texts)
    cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    assert (1 - cos).max() < 1e-3


def test_hf_and_st_prefixes_on_local_folders():
    path = packaged.minilm_l6_dir()
    texts = ["a short sentence", "another, somewhat longer sentence about sport"]
    mean = get_encoder(f"hf:{path}?layer=3&pooling=mean").encode(texts)
    last = get_encoder(f"hf:{path}?layer=-1&pooling=last").encode(texts)
    assert mean.shape == last.shape == (2, 384) and not np.allclose(mean, last)
    assert get_encoder(f"st:{path}").encode(texts).shape == (2, 384)
    assert get_encoder(f"hf:{path}?layer=3").identity()["layer"] == 3


def test_bad_encoder_options_and_modality():
    with pytest.raises(SuperalignError, match="unknown option 'layr'"):
        get_encoder("hf:some/model?layr=3")
    with pytest.raises(SuperalignError, match="pooling"):
        get_encoder("hf:some/model?pooling=max")
    with pytest.raises(SuperalignError, match="did you mean 'minilm-l6'"):
        get_encoder("minilm-l7")
    with pytest.raises(SuperalignError, match="takes text inputs"):
        get_encoder("minilm-l6").check_modality("image")


def test_mpnet_assembly_is_verified():
    folder = packaged.mpnet_dir()
    assert (folder / ".verified").read_text() == packaged.MPNET_ZIP_SHA256


def test_packaged_hidden_state_encoders_take_layer_and_pooling_options():
    from superalign.errors import SuperalignError
    from superalign.models.encoder import get_encoder

    encoder = get_encoder("smollm2-135m?layer=3&pooling=mean")
    assert encoder.layer == 3 and encoder.pooling == "mean" and encoder.name == "smollm2-135m?layer=3&pooling=mean"
    assert get_encoder("qwen-1.5b?layer=14").layer == 14  # nothing is loaded until it encodes
    with pytest.raises(SuperalignError, match="takes no options"):
        get_encoder("minilm-l6?layer=3")
    with pytest.raises(SuperalignError, match="unknown option"):
        get_encoder("smollm2-135m?layers=3")


@pytest.mark.slow
def test_dropping_the_layers_after_the_one_read_changes_no_feature():
    """The hidden-state encoder runs only the blocks up to the layer it reads; the features are those of the
    whole model's forward pass at that layer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from superalign.models.encoder import get_encoder

    texts = ["Claim: 12 + 30 = 42. Is the claim true?", "The dollar rose against the euro on Friday."]
    encoder = get_encoder("smollm2-135m?precision=fp32")
    ours = encoder.encode(texts)
    assert len(encoder._loaded[1].layers) == encoder.resolved_layer + 1 < encoder.n_layers
    tokenizer = AutoTokenizer.from_pretrained(encoder.path)
    full = AutoModel.from_pretrained(encoder.path, dtype=torch.float32).eval()
    for text, row in zip(texts, ours):
        with torch.inference_mode():
            hidden = full(**tokenizer(text, return_tensors="pt"), output_hidden_states=True).hidden_states
        np.testing.assert_allclose(row, hidden[encoder.resolved_layer][0, -1].numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_chat_template_reads_the_state_where_the_model_would_answer():
    """template=chat: the text becomes a user message and the last token is the start of the assistant's
    turn; the feature equals a plain forward pass over that templated prompt, and differs from the raw text's."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from superalign.errors import SuperalignError
    from superalign.models.encoder import get_encoder

    text = "Claim: 12 + 30 = 42. Is the claim true?"
    encoder = get_encoder("smollm2-135m?precision=fp32&template=chat")
    assert encoder.identity()["template"] == "chat" and "template" not in get_encoder("smollm2-135m").identity()
    ours = encoder.encode([text])[0]
    tokenizer = AutoTokenizer.from_pretrained(encoder.path)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
    assert prompt.rstrip().endswith("assistant")
    full = AutoModel.from_pretrained(encoder.path, dtype=torch.float32).eval()
    with torch.inference_mode():
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        hidden = full(**ids, output_hidden_states=True).hidden_states[encoder.resolved_layer][0, -1].numpy()
    np.testing.assert_allclose(ours, hidden, rtol=1e-4, atol=1e-4)
    assert not np.allclose(ours, get_encoder("smollm2-135m?precision=fp32").encode([text])[0], atol=1e-2)
    with pytest.raises(SuperalignError, match="template must be"):
        get_encoder("smollm2-135m?template=alpaca")


@pytest.mark.slow
def test_chat_template_prefix_is_computed_once_with_the_same_features():
    """The template's head (system prompt, user header) is run once and its KV cache shared by every text; the
    features equal running each padded batch whole, for texts of different lengths in one batch."""
    from superalign.models.encoder import get_encoder

    texts = ["Claim: 12 + 30 = 42. Is the claim true?", "Claim: 7 * 8 = 54?", "A longer text, with commas, "
             "numbers like 1,234 and an ending that the tokenizer splits into several pieces: done."]
    encoder = get_encoder("smollm2-135m?precision=fp32&template=chat&layer=-1")
    assert len(encoder._prefix[0]) > 10  # the system prompt is shared
    shared = encoder.encode(texts)
    encoder.share_prefix = False
    whole = encoder.encode(texts)
    np.testing.assert_allclose(shared, whole, rtol=1e-4, atol=1e-4)
