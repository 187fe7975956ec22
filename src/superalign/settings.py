"""Settings, read once from the environment (`SUPERALIGN_*`) by pydantic-settings, and passed down from here.

    SUPERALIGN_HOME               root of caches, assembled models and runs (default: the user cache dir)
    SUPERALIGN_RUNS               the run store's folder (default: $SUPERALIGN_HOME/runs)
    SUPERALIGN_PRECISION          auto | fp32 | bf16 for transformer encoders (an explicit argument wins)
    SUPERALIGN_THREADS            threads per encoder (default: every core)
    SUPERALIGN_LLAMA_SEQUENCES    generations a llama.cpp model decodes together (default 4; 1: one at a time)
    SUPERALIGN_PROGRESS           0 hides progress bars
    SUPERALIGN_HUB_DIR            a local mirror of hub datasets (offline use of sciq, boolq, QuALITY, ...)
    SUPERALIGN_FASHION_MNIST_DIR  the Fashion-MNIST IDX files (default: the Debian package's folder)
    SUPERALIGN_OPENAI_BASE_URL    default base URL of OpenAI-compatible chat servers
    SUPERALIGN_HTTP_DEADLINE      seconds one request to a chat server may take in all, retries included (120)
    SUPERALIGN_HTTP_RETRIES       the SDK's retries of connection errors, timeouts, 429 and 5xx (2)
    SUPERALIGN_GPUS_PER_RUN       GPUs the Ray executor reserves for each run that trains a model (lora-rm,
                                  finetune); 0 (the default) schedules them on CPUs

`settings()` builds the object on first use; `configure(**fields)` replaces it (the CLI edge, executors'
workers and tests use it), so no module reads the environment itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPERALIGN_", extra="ignore")

    home: Path | None = None
    runs: Path | None = None
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    threads: int = os.cpu_count() or 1
    llama_sequences: int = Field(4, ge=1, le=64)
    progress: bool = True
    hub_dir: Path | None = None
    fashion_mnist_dir: Path = Path("/usr/share/datasets/fashion-mnist")
    openai_base_url: str | None = None
    http_deadline: float = Field(120.0, gt=0)
    http_retries: int = Field(2, ge=0, le=10)
    gpus_per_run: float = Field(0.0, ge=0)


_current: Settings | None = None


def settings() -> Settings:
    """The settings of this process (read from the environment on first use)."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def configure(**fields) -> None:
    """Sets `fields` explicitly over the environment; with no fields, the environment is read again on next use."""
    global _current
    _current = Settings(**fields) if fields else None
