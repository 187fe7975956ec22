"""Running a protocol over items (both answer orders), its metrics, and its run record."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Any

import numpy as np

from superalign.metrics import mean_and_ci
from superalign.io import stable_hash
from superalign.chat.client import ChatClient
from superalign.oversight.items import OversightItem
from superalign.oversight.protocols import PROTOCOLS, ROLES, Settings, consultancy
from superalign.oversight.transcript import Transcript
from superalign.errors import SuperalignError
from superalign.runs.get_or_run import get_or_run
from superalign.runs.store import RunStore


async def _run(protocol: str, items: list[OversightItem], clients: dict[str, ChatClient], settings: Settings):
    fn = PROTOCOLS.get(protocol)
    jobs = []
    for item in items:
        for swap in (False, True):  # both orders: position bias cancels in the average
            if protocol == "consultancy":
                jobs += [consultancy(item, clients, swap, settings, assigned_correct=c) for c in (True, False)]
            else:
                jobs.append(fn(item, clients, swap, settings))
    return await asyncio.gather(*jobs)


def metrics(transcripts: list[Transcript]) -> dict[str, Any]:
    """Judge accuracy over parsed verdicts (with a bootstrap interval), unparseable count, and per-protocol extras."""
    parsed = [t for t in transcripts if t.parsed]
    correct = [float(t.correct) for t in parsed]
    mean, lo, hi = mean_and_ci(correct) if correct else (float("nan"),) * 3
    out = {"transcripts": len(transcripts), "unparseable": len(transcripts) - len(parsed),
           "accuracy": mean, "accuracy_lo": lo, "accuracy_hi": hi,
           "chose_first_position": float(np.mean([t.verdict == 0 for t in parsed])) if parsed else float("nan"),
           "quotes_verified": sum(t.quotes_verified for t in transcripts),
           "quotes_unverified": sum(t.quotes_unverified for t in transcripts)}
    assigned = [t for t in parsed if t.assigned is not None]
    if assigned:  # consultancy: how often the judge sides with the consultant, by the side it was given
        for name, is_correct in (("assigned_correct", True), ("assigned_incorrect", False)):
            part = [t for t in assigned if (t.assigned == t.correct_shown) == is_correct]
            out[f"accuracy_{name}"] = float(np.mean([t.correct for t in part])) if part else float("nan")
    if transcripts and transcripts[0].protocol == "debate":
        out["win_rate_debater_a"] = out["chose_first_position"]
        out["win_rate_correct_debater"] = mean
    return out


def run_protocol(protocol: str, items: list[OversightItem], clients: dict[str, ChatClient], settings: Settings,
                 item_set: str = "", seed: int = 0, store: RunStore | None = None, refresh: bool = False) -> dict:
    """Runs (or reads from the store) one protocol over the items; returns the record."""
    missing = [r for r in ROLES[protocol] if r not in clients]
    if missing:
        raise SuperalignError(f"protocol {protocol!r} needs chat models for: {', '.join(missing)}")
    config = {"protocol": protocol, "items": item_set, "n_items": len(items), "seed": seed,
              "item_ids": [i.id for i in items], "settings": asdict(settings),
              "models": {role: c.backend.identity() for role, c in clients.items()}}
    key = "oversight-" + stable_hash(config, length=16)

    def compute() -> dict:
        start = time.perf_counter()
        transcripts = asyncio.run(_run(protocol, items, clients, settings))
        usage = {role: vars(c.usage).copy() for role, c in clients.items()}
        return {"metrics": metrics(transcripts), "seconds": round(time.perf_counter() - start, 2), "usage": usage,
                "transcripts": [t.model_dump(mode="json") for t in transcripts]}

    outcome = get_or_run(store or RunStore(), "oversight", config, key, compute, refresh=refresh, retry_failed=True)
    if not outcome.ok:
        raise SuperalignError(f"oversight run {protocol!r} failed: {outcome.error}")
    return outcome.record
