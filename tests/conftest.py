"""Test settings: one temporary superalign home per session (features are computed once and shared),
real packaged models, two threads like the target laptop."""

import os
import tempfile

import pytest

_HOME = tempfile.mkdtemp(prefix="superalign-test-")
os.environ["SUPERALIGN_HOME"] = _HOME
os.environ.setdefault("SUPERALIGN_PROGRESS", "0")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERALIGN_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"
