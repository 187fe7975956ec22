"""The OpenAI-compatible HTTP backend against a real server on loopback: llama-cpp-python serving the
packaged SmolLM2 GGUF. The test starts the server and stops it."""

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from superalign.models import packaged
from superalign.chat.client import CHAT_MODELS, ChatClient
from superalign.oversight.items import load_items
from superalign.oversight.protocols import Settings
from superalign.oversight.runner import run_protocol
from superalign.engine.store import RunStore

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm, or pip install superalign[llm])")
SECRET = "sk-test-never-write-me-3141592653"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(packaged.smollm2_gguf()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                             "--api_key", SECRET, "--logits_all", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            request = urllib.request.Request(f"{url}/v1/models", headers={"Authorization": f"Bearer {SECRET}"})
            urllib.request.urlopen(request, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama.cpp server did not start within 120 s")
    yield url
    proc.terminate()
    proc.wait(30)


def test_http_backend_against_the_real_server(server, runs_dir, monkeypatch):
    monkeypatch.setenv("SUPERALIGN_TEST_KEY", SECRET)
    backend = CHAT_MODELS.get(f"openai:smollm2?base_url={server}&key_env=SUPERALIGN_TEST_KEY")()
    client = ChatClient(backend)
    reply = asyncio.run(client.chat([{"role": "user", "content": "Say hello."}], max_tokens=8))
    assert reply.text and reply.completion_tokens > 0 and reply.logprobs is None  # not asked for by default
    asked = CHAT_MODELS.get(f"openai:smollm2?base_url={server}&key_env=SUPERALIGN_TEST_KEY&logprobs=1")()
    reply = asyncio.run(ChatClient(asked).chat([{"role": "user", "content": "Say hi."}], max_tokens=8))
    assert reply.text and len(reply.logprobs) == reply.completion_tokens
    assert reply.served_model  # what the server says answered
    record = run_protocol("direct", load_items("bbc-topics", 2), {"judge": client}, Settings(), item_set="bbc-topics")
    assert record["result"]["metrics"]["transcripts"] == 4
    # The key is read from the environment and never written to records.
    assert SECRET.encode() not in RunStore().path.read_bytes()
    assert SECRET not in str(record)


def test_a_client_error_is_not_retried(server, monkeypatch):
    """A wrong key is a 401: the SDK does not retry it, and the error names the status in one line."""
    from superalign.errors import SuperalignError

    monkeypatch.setenv("SUPERALIGN_WRONG_KEY", "sk-wrong")
    client = ChatClient(CHAT_MODELS.get(f"openai:smollm2?base_url={server}&key_env=SUPERALIGN_WRONG_KEY")(), retries=3)
    start = time.perf_counter()
    with pytest.raises(SuperalignError, match="answered 401"):
        asyncio.run(client.chat([{"role": "user", "content": "x"}]))
    assert client.usage.failures == 0 and time.perf_counter() - start < 5


def test_missing_key_and_dead_server_give_clear_errors(monkeypatch):
    from superalign.errors import SuperalignError

    monkeypatch.delenv("SUPERALIGN_NO_SUCH_KEY", raising=False)
    backend = CHAT_MODELS.get("openai:m?base_url=http://127.0.0.1:9&key_env=SUPERALIGN_NO_SUCH_KEY")()
    with pytest.raises(SuperalignError, match="SUPERALIGN_NO_SUCH_KEY is not set"):
        asyncio.run(ChatClient(backend, retries=0).chat([{"role": "user", "content": "x"}]))
    dead = CHAT_MODELS.get(f"openai:m?base_url=http://127.0.0.1:{_free_port()}")()
    with pytest.raises(SuperalignError, match="cannot reach"):
        asyncio.run(ChatClient(dead, retries=1, backoff_s=0.01).chat([{"role": "user", "content": "x"}]))


def _listener(behaviour):
    """A loopback TCP server whose every connection gets `behaviour(connection)`; returns (port, connections)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    connections = []

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connections.append(connection)
            behaviour(connection)

    threading.Thread(target=serve, daemon=True).start()
    return server, connections


def test_one_retry_policy_the_sdks_and_the_message_counts_what_happened(monkeypatch):
    """A server that hangs up on every request: the SDK's retries only (no second layer on top; an earlier
    build made 16 connections while saying 4 attempts), and the error line says how many."""
    from superalign.chat.client import OpenAIChat
    from superalign.errors import SuperalignError

    server, connections = _listener(lambda connection: connection.close())
    backend = OpenAIChat("m", f"http://127.0.0.1:{server.getsockname()[1]}", max_retries=2, deadline_s=30)
    try:
        with pytest.raises(SuperalignError, match=r"cannot reach .*\(3 attempt\(s\)"):
            asyncio.run(ChatClient(backend, retries=3, backoff_s=0.01).chat([{"role": "user", "content": "x"}]))
        assert len(connections) == 3
    finally:
        server.close()


def test_a_server_that_never_answers_is_given_up_on_at_the_deadline():
    """It used to hold a command for about 20 minutes (4 x 300 s)."""
    from superalign.chat.client import OpenAIChat
    from superalign.errors import SuperalignError

    server, connections = _listener(lambda connection: None)  # accepts, reads nothing, says nothing
    backend = OpenAIChat("m", f"http://127.0.0.1:{server.getsockname()[1]}", max_retries=2, deadline_s=1.5)
    start = time.perf_counter()
    try:
        with pytest.raises(SuperalignError, match="no answer .* within 1.5 s"):
            asyncio.run(ChatClient(backend).chat([{"role": "user", "content": "x"}]))
        assert time.perf_counter() - start < 5
    finally:
        server.close()
