"""Assembled model files: verified by SHA-256 when made, and again whenever they change on disk."""

import os

from superalign.io import file_sha256
from superalign.models import packaged


def test_an_assembled_file_is_rehashed_only_when_it_changed_and_a_tampered_one_is_refused(tmp_path, monkeypatch):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights" * 1000)
    digest = file_sha256(model)
    packaged.stamp(model, digest)
    hashes = []
    monkeypatch.setattr(packaged, "file_sha256", lambda path: hashes.append(path) or file_sha256(path))
    assert packaged.still_verified(model, digest) and hashes == []  # size and mtime as recorded: no re-hash
    # Same size, other bytes (a flipped weight): the mtime changed, so it is hashed again and refused.
    model.write_bytes(b"weighTs" * 1000)
    assert not packaged.still_verified(model, digest) and len(hashes) == 1
    # Restored bytes with a new mtime: one re-hash, then trusted again without one.
    model.write_bytes(b"weights" * 1000)
    os.utime(model, ns=(1, 1))
    assert packaged.still_verified(model, digest) and len(hashes) == 2
    assert packaged.still_verified(model, digest) and len(hashes) == 2
    # Without an expected digest, the one recorded at assembly is the reference; no record means not verified.
    assert packaged.still_verified(model)
    assert not packaged.still_verified(tmp_path / "missing.gguf")
    (tmp_path / "model.gguf.sha256.json").write_text("[1, 2]")  # a sidecar of the wrong shape: not trusted
    assert not packaged.still_verified(model)


def test_assembly_on_a_nearly_full_disk_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    import pytest

    from superalign.errors import SuperalignError
    from superalign.settings import configure

    monkeypatch.setenv("SUPERALIGN_HOME", str(tmp_path / "home"))
    configure()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 << 30, (10 << 30) - (300 << 20), 300 << 20))
    with pytest.raises(SuperalignError, match=r"assembling qwen-0.5b needs about 0.5 GB in .* 0.3 GB free"):
        packaged.qwen_gguf("qwen-0.5b")
    assert not any((tmp_path / "home").rglob("*.partial"))
