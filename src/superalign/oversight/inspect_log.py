"""Oversight runs as Inspect AI eval logs, so that `inspect view` shows their transcripts and scores.

One recorded run (a protocol over its items) becomes one log: a sample per transcript, with the question and the
two answers in the order the judge saw them as input, the correct letter as target, every turn of the protocol as
a message (its role and round in the message's metadata), the judge's last turn as output and its verdict scored
`C` (correct), `I` (incorrect) or `N` (no parseable verdict). A counterbalanced run's second order of an item is
the item's epoch 2. The log's results hold the run's accuracy as superalign computed it, with its interval.

    superalign oversight inspect-logs --out logs/     # every oversight run in the store
    inspect view --log-dir logs/

Needs the `inspect` extra (pip install 'superalign[inspect]').
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from superalign.errors import MissingDependencyError
from superalign.oversight.transcript import Transcript

LETTERS = ("A", "B")


def _inspect():
    try:
        import inspect_ai.log as log
        import inspect_ai.model as model
        import inspect_ai.scorer as scorer
    except ImportError as exc:
        raise MissingDependencyError("Inspect logs need inspect-ai: pip install 'superalign[inspect]'") from exc
    return log, model, scorer


def _model_name(identity: dict[str, Any]) -> str:
    return str(identity.get("name") or identity.get("model") or identity.get("kind") or "unknown")


def _items_by_id(config: dict[str, Any]) -> dict[str, Any]:
    """The run's items (question and source), when its item set can be loaded here; else none."""
    from superalign.oversight.items import load_items

    try:
        items = load_items(config["items"], config.get("n", config.get("n_items", 0)), config.get("seed", 0))
    except Exception:  # an item set of a plugin not installed here, or a hub set offline: ids are enough
        return {}
    return {item.id: item for item in items}


def _sample(t: Transcript, epoch: int, item, log, model, scorer):
    question = item.question if item is not None else f"item {t.item_id}"
    shown = "\n".join(f"{letter}: {answer}" for letter, answer in zip(LETTERS, t.answers_shown))
    messages = [model.ChatMessageUser(content=f"{question}\n\n{shown}", source="input")]
    for turn in t.turns:
        messages.append(model.ChatMessageAssistant(content=f"[{turn.role}, round {turn.round}]\n{turn.content}",
                                                   metadata={"role": turn.role, "round": turn.round}))
    judged = [turn for turn in t.turns if turn.role == "judge"]
    verdict = "N" if t.verdict is None else ("C" if t.correct else "I")
    score = scorer.Score(value=verdict, answer=None if t.verdict is None else LETTERS[t.verdict],
                         explanation=judged[-1].content if judged else None,
                         metadata={"confidence": t.confidence, "log_odds": t.log_odds})
    metadata = t.model_dump(mode="json", exclude={"turns"})
    if item is not None:
        metadata["source_hidden_from_judge"] = item.source
    return log.EvalSample(id=t.item_id, epoch=epoch, input=f"{question}\n\n{shown}", target=LETTERS[t.correct_shown],
                          messages=messages, output=model.ModelOutput.from_content(
                              model="judge", content=judged[-1].content if judged else ""),
                          scores={"judge_correct": score}, metadata=metadata)


def eval_log(record: dict[str, Any]):
    """The Inspect `EvalLog` of one oversight run record (kind `oversight`)."""
    log, model, scorer = _inspect()
    config, result = record["config"], record["result"]
    transcripts = [Transcript.model_validate(t) for t in result["transcripts"]]
    items = _items_by_id(config)
    epochs: Counter[str] = Counter()
    samples = []
    for t in transcripts:
        epochs[t.item_id] += 1
        samples.append(_sample(t, epochs[t.item_id], items.get(t.item_id), log, model, scorer))
    m = result["metrics"]
    models = result.get("models") or config.get("models") or {}
    protocol = config["protocol"]
    created = datetime.fromtimestamp(record.get("created", 0), tz=timezone.utc).isoformat()
    spec = log.EvalSpec(
        created=created, task=f"superalign/oversight/{protocol}", task_id=record["config_hash"],
        dataset=log.EvalDataset(name=str(config.get("items", "")), samples=len({t.item_id for t in transcripts})),
        model=_model_name(models.get("judge", {})), config=log.EvalConfig(epochs=max(epochs.values(), default=1)),
        task_args={k: v for k, v in config.items() if k not in ("item_ids", "models")},
        model_roles=None,
        metadata={"superalign": {"kind": record["kind"], "config_hash": record["config_hash"],
                                 "git_revision": record.get("git_revision"), "host": record.get("host"),
                                 "models": {role: _model_name(i) for role, i in models.items()}}})
    metrics = {"accuracy": log.EvalMetric(name="accuracy", value=m["accuracy"]),
               "accuracy_lo": log.EvalMetric(name="accuracy_lo", value=m["accuracy_lo"]),
               "accuracy_hi": log.EvalMetric(name="accuracy_hi", value=m["accuracy_hi"]),
               "coverage": log.EvalMetric(name="coverage", value=m["coverage"])}
    results = log.EvalResults(total_samples=len(samples), completed_samples=len(samples),
                              scores=[log.EvalScore(name="judge_correct", scorer="superalign_judge_verdict",
                                                    metrics=metrics)])
    return log.EvalLog(eval=spec, status="success", samples=samples, results=results)


def write_logs(records: list[dict[str, Any]], folder: Path) -> list[Path]:
    """One `.eval` log per oversight run record in `folder`, named by the protocol and the run's key."""
    log, _, _ = _inspect()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for record in records:
        path = folder / f"{record['config']['protocol']}-{record['config_hash'][:12]}.eval"
        log.write_eval_log(eval_log(record), str(path))
        paths.append(path)
    return paths
