"""Test settings: one temporary superalign home per session (features are computed once and shared),
real packaged models, two threads like the target laptop."""

import atexit
import os
import shutil
import tempfile

import pytest


def _roomiest_temp_parent() -> str:
    """The session's home holds GBs of assembled models: /tmp, or the project folder where /tmp is smaller (a tmpfs
    on some CI machines)."""
    candidates = [tempfile.gettempdir(), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    return max(candidates, key=lambda folder: shutil.disk_usage(folder).free)


_HOME = tempfile.mkdtemp(prefix=".superalign-test-", dir=_roomiest_temp_parent())
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)  # assembled models are GBs: leave nothing behind
os.environ["SUPERALIGN_HOME"] = _HOME
os.environ.setdefault("SUPERALIGN_PROGRESS", "0")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def fresh_settings():
    """Settings are read once per process; a test that changes the environment gets them read again."""
    from superalign.settings import configure

    configure()
    yield
    configure()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A run store of the test's own (never the one shared by the whole test session)."""
    from superalign.settings import configure

    monkeypatch.setenv("SUPERALIGN_RUNS", str(tmp_path / "runs"))
    configure()
    return tmp_path / "runs"
