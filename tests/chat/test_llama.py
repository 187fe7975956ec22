"""llama.cpp in process with the real packaged Qwen2.5-Coder-0.5B-Instruct: generation with top log-probs,
continuation log-likelihoods, the request cache, and the errors when the LLM extra is missing."""

import asyncio

import pytest

from superalign.errors import MissingDependencyError

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm, or pip install superalign[llm])")


@pytest.fixture(scope="module")
def qwen():
    from superalign.chat.client import get_chat_model

    try:
        return get_chat_model("qwen-0.5b", cache=False)
    except MissingDependencyError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_generation_returns_text_and_next_token_log_probs(qwen):
    response = asyncio.run(qwen.chat([{"role": "user", "content": "Reply with one word: the capital of France?"}],
                                     max_tokens=4))
    assert "paris" in response.text.lower()
    assert response.logprobs and len(response.top_logprobs) == response.completion_tokens
    first = response.top_logprobs[0]
    assert len(first) >= 5 and max(first.values()) <= 0 and all(isinstance(v, float) for v in first.values())


@pytest.mark.slow
def test_continuation_log_likelihood_prefers_the_right_answer(qwen):
    backend = qwen.backend
    right = backend.loglikelihood("Q: What is 7 + 5?\nA:", " 12")
    wrong = backend.loglikelihood("Q: What is 7 + 5?\nA:", " 15")
    assert right < 0 and right > wrong + 1


@pytest.mark.slow
def test_responses_are_cached_with_their_log_probs(tmp_path):
    from superalign.chat.client import CHAT_MODELS, ChatClient, RequestCache

    client = ChatClient(CHAT_MODELS.get("qwen-0.5b")(), cache=RequestCache(tmp_path / "cache.sqlite"))
    messages = [{"role": "user", "content": "Say yes."}]
    first = asyncio.run(client.chat(messages, max_tokens=2))
    second = asyncio.run(client.chat(messages, max_tokens=2))
    assert second.cached and second.text == first.text and second.top_logprobs == first.top_logprobs


def test_a_missing_part_names_the_install_command(monkeypatch):
    from superalign.models import packaged

    monkeypatch.setitem(packaged.QWEN, "qwen-test", {**packaged.QWEN["qwen-0.5b"], "package": "no-such-part{i}",
                                                      "file": "missing.gguf"})
    with pytest.raises(MissingDependencyError, match="make llm"):
        packaged.qwen_gguf("qwen-test")


@pytest.mark.slow
def test_sampled_draws_are_keyed_by_sample_index_and_repeat_exactly(qwen, tmp_path):
    """Best-of-N asks for draws 1..N of one request: each is its own cache entry and its own sampling seed,
    so a draw repeats exactly (here with the cache off, from the seed alone)."""
    messages = [{"role": "user", "content": "Write one short sentence about the sea."}]
    draws = [asyncio.run(qwen.chat(messages, max_tokens=12, temperature=1.0, sample=i)).text for i in (1, 2, 3)]
    again = asyncio.run(qwen.chat(messages, max_tokens=12, temperature=1.0, sample=2)).text
    assert again == draws[1]
    assert len(set(draws)) >= 2  # different seeds, different draws


@pytest.mark.slow
def test_next_token_log_probs_of_answer_letters_and_answer_texts(qwen):
    """One forward pass after the chat template and a reply prefix. The letters' log-probs are a distribution
    over the reply's next token (the model puts most of its mass on " A" / " B"); the answers' own texts are
    scored as continuations, and there the right one wins (this small model's letters do not track the
    content; README). Reusing the prompt's KV cache gives the same scores as a fresh evaluation."""
    import math

    messages = [{"role": "user", "content": "What is 7 + 5?\nA: 12\nB: 15\nReply with the right answer."}]
    scores = asyncio.run(qwen.next_token_logprobs(messages, "Answer:", ["A", " A", "B", " B"]))
    assert set(scores) == {"A", " A", "B", " B"} and all(v < 0 for v in scores.values())
    assert sum(math.exp(v) for v in scores.values()) > 0.5
    with pytest.raises(Exception, match="not one"):
        qwen.backend.next_token_logprobs(messages, "Answer:", [" Answer B"])
    question = [{"role": "user", "content": "What is 7 + 5? Reply with the number only."}]
    texts = asyncio.run(qwen.answer_logprobs(question, "", ["12", "15"]))
    assert texts["12"] > texts["15"] + 1
    backend = qwen.backend
    backend.llama.reset()  # nothing to reuse: the same numbers from a fresh evaluation
    again = backend.answer_logprobs(question, "", ["15", "12"])
    # up to batch-shape noise: 1e-4 nats with the AVX2 build, 0.03 with the AVX-512 one (other kernels for
    # a one-token batch than for a prompt); reading the wrong rows would be off by nats
    assert again == pytest.approx(texts, abs=0.05)


@pytest.mark.slow
def test_own_decoding_loop_matches_the_library_and_never_reads_missing_logits(qwen):
    """superalign decodes with its own loop (llama-cpp-python's completion sorts the whole vocabulary in Python
    for every token's log-probs): from a fresh state, greedy text and log-probs are the library's. Generation
    evaluates the prompt without logits; a cloze score read afterwards over the same prefix must not read those
    missing rows (poisoned with NaN here). llama.cpp's logits themselves move by up to ~0.4 nats with how a
    sequence is split into batches, so the reused and the fresh score agree to that, not exactly."""
    import numpy as np

    backend = qwen.backend
    llama = backend.llama
    messages = [{"role": "user", "content": "Name three colours, comma separated."}]
    llama.reset()
    theirs = llama.create_chat_completion(messages=messages, max_tokens=12, temperature=0.0, logprobs=True,
                                          top_logprobs=5)
    llama.reset()
    ours = backend._generate_sync(messages, 12, 0.0)
    assert ours.text == theirs["choices"][0]["message"]["content"].strip()
    library = [t["logprob"] for t in theirs["choices"][0]["logprobs"]["content"]]
    assert ours.logprobs == pytest.approx(library, abs=1e-4)
    # a cloze prompt that ends inside the generation's prompt: the rows it needs were evaluated without logits
    prompt = backend._formatter(messages=messages).prompt.removesuffix("assistant\n")
    answers = ["assistant\nRed, green", "assistant\nSeven"]
    llama.scores[:200] = np.nan
    backend._generate_sync(messages, 12, 0.0)
    after_generation = backend.loglikelihoods(prompt, answers)
    assert np.isfinite(after_generation).all() and after_generation[0] > after_generation[1] + 3
    llama.reset()
    assert backend.loglikelihoods(prompt, answers) == pytest.approx(after_generation, abs=0.5)


@pytest.mark.slow
def test_smollm2_through_llama_cpp_chats_and_checks_its_weights(monkeypatch):
    """The ladder's smallest rung in llama.cpp: the packaged SmolLM2 GGUF, SHA-256 checked before it loads."""
    from superalign.chat.client import CHAT_MODELS, ChatClient
    from superalign.errors import SuperalignError
    from superalign.models import packaged

    smol = ChatClient(CHAT_MODELS.get("smollm2-llama")(), cache=None)
    reply = asyncio.run(smol.chat([{"role": "user", "content": "Reply with one word: the capital of France?"}],
                                  max_tokens=4))
    assert smol.backend.name == "smollm2-llama" and reply.completion_tokens > 0 and reply.text.strip()
    monkeypatch.setattr(packaged, "SMOLLM2_GGUF_SHA256", "0" * 64)
    with pytest.raises(SuperalignError, match="SHA-256"):
        asyncio.run(ChatClient(CHAT_MODELS.get("smollm2-llama")(), cache=None).chat(
            [{"role": "user", "content": "hi"}], max_tokens=1))


# A process that loaded a model and exits: its exit handler runs after ours and stands in for interpreter
# shutdown tearing down llama-cpp-python's bindings, which `Llama.__del__` then called ("Exception ignored").
_EXIT_AFTER_LOADING = """
import atexit

@atexit.register
def tear_down_bindings_like_shutdown():
    import llama_cpp.llama_cpp as bindings
    for name in ("llama_model_free", "llama_free", "llama_batch_free"):
        setattr(bindings, name, None)

from superalign.chat.llama import CHAT_MODELS
backend = CHAT_MODELS.get("qwen-0.5b")()
backend.llama
print("loaded")
"""


def test_loaded_models_are_freed_before_shutdown_tears_the_bindings_down(qwen):  # qwen: skips without the models
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _EXIT_AFTER_LOADING], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr
    assert "Exception ignored" not in done.stderr and "TypeError" not in done.stderr, done.stderr


@pytest.mark.slow
def test_requests_sent_together_are_decoded_as_one_wave_with_the_same_text(tmp_path):
    """Two debaters reading the same article, and a third unrelated prompt, sent at once: decoded as one wave of
    sequences (the shared prefix evaluated once), they come out as when decoded one at a time, greedy, with
    log-probs equal up to llama.cpp's batch-shape noise. A prompt too long for a sequence is refused."""
    from superalign.chat.client import CHAT_MODELS, ChatClient

    article = ("The company said profits rose to 12 million pounds in the year to March, up from 9 million. "
               "Its chief executive said the firm would open 40 new shops and hire 300 staff. ") * 3
    prompts = [f"{article}\nArgue in one sentence that the number of new shops is {n}." for n in (40, 300)]
    prompts.append("Name three colours, separated by commas.")
    messages = [[{"role": "user", "content": p}] for p in prompts]

    def run(max_sequences: int):
        backend = CHAT_MODELS.get("qwen-0.5b")()
        backend.max_sequences = max_sequences
        client = ChatClient(backend)

        async def together():
            return await asyncio.gather(*(client.chat(m, max_tokens=16) for m in messages))

        return backend, asyncio.run(together())

    alone_backend, alone = run(1)
    batched_backend, batched = run(4)
    decoder = batched_backend._decoder
    assert sum(1 for held in decoder.held if held) == 3  # three sequences used, in one wave
    assert [r.text for r in batched] == [r.text for r in alone]
    for a, b in zip(alone, batched):
        assert a.completion_tokens == b.completion_tokens > 0
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < 0.1
    # the two debaters' prompts share the article (over 100 tokens): its cells were copied, not recomputed
    everything = sum(r.prompt_tokens + r.completion_tokens for r in batched)
    assert decoder.evaluated < everything - 100
    with pytest.raises(ValueError, match="does not fit"):
        from superalign.chat.llama_batch import Request
        import numpy as np

        decoder.generate([Request([1] * 5000, 4, 0.0, np.random.default_rng(0))], str, lambda t: False)
