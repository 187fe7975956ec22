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
