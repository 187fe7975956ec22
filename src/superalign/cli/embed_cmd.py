"""`superalign embed`: featurize a task with an encoder, through the activation cache."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from superalign.cli.console import out
from superalign.data.registry import load_task
from superalign.models.cache import ActivationCache
from superalign.models.encoder import get_encoder


def embed(
    task: Annotated[str, typer.Option(help="task name, e.g. bbc-news")],
    model: Annotated[str, typer.Option(help="encoder name, e.g. minilm-l6")],
    refresh: Annotated[bool, typer.Option(help="recompute even if cached")] = False,
    max_examples: Annotated[int, typer.Option(help="stratified subset of at most this many examples (0 = all)")] = 0,
) -> None:
    """Compute (or fetch from the cache) the features of a task's inputs."""
    start = time.perf_counter()
    the_task = load_task(task)
    if max_examples:
        the_task = the_task.subsample(max_examples)
    encoder = get_encoder(model)
    cache = ActivationCache()
    encoder.check_modality(the_task.modality)
    hit = not refresh and cache.is_cached(the_task, encoder)
    features = cache.featurize(the_task, encoder, refresh=refresh)
    seconds = time.perf_counter() - start
    out.print(f"{the_task.name} x {encoder.name}: features {tuple(features.shape)} "
              f"({'from cache' if hit else 'computed'}) in {seconds:.2f}s")
