"""Oversight protocols as a kind on the engine (`kind: oversight`): one run is one protocol, with its settings,
over the first `n` items of an item set, a weak judge and a strong model in every other role.

    kind: oversight
    items: bbc-cloze?max_chars=900
    n: 200
    judge: qwen-0.5b
    debater: qwen-1.5b
    judge_mode: cloze
    runs:
      - {label: direct, protocol: direct}
      - {label: debate, protocol: debate, rounds: 1, simultaneous: true}

The table pairs every row with its `reference` row (default: the row labelled direct) on the same items: the
difference in accuracy with a bootstrap interval over items. Every chat request goes through the request cache,
so an interrupted run resumes request by request.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from superalign.engine.kind import Kind, Table
from superalign.oversight.protocols import PROTOCOLS, Settings, clients_for

_DEFAULTS = Settings()


class OversightRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protocol: str
    label: str = ""  # the row's name in the table (default: the protocol)
    reference: str = "direct"  # the row this one is paired with in the table
    items: str = "bbc-topics"
    n: int = 10
    seed: int = 0  # which items are drawn (item sets that sample)
    judge: str = "smollm2"
    debater: str = "smollm2"
    rounds: int = _DEFAULTS.rounds
    simultaneous: bool = _DEFAULTS.simultaneous
    best_of_n: int = _DEFAULTS.best_of_n
    judge_sees_source: bool = _DEFAULTS.judge_sees_source
    judge_questions: int = _DEFAULTS.judge_questions
    judge_mode: str = _DEFAULTS.judge_mode
    verify_quotes: bool = _DEFAULTS.verify_quotes
    unverified_quotes: str = _DEFAULTS.unverified_quotes
    judge_source_share: float = _DEFAULTS.judge_source_share
    judge_answers_last: bool = _DEFAULTS.judge_answers_last
    speaker_orders: int = Field(_DEFAULTS.speaker_orders, ge=1, le=2,
                                description="2: every debate in both speaker orders (counterbalanced)")
    liar: str = Field("", description="debate only: a chat model that argues every wrong answer (e.g. "
                                      "scripted:restate), against the debater arguing the right one")

    @model_validator(mode="after")
    def _liar_debates(self):
        if self.liar and self.protocol != "debate":
            raise ValueError(f"liar: only debate has a side to lie for, not {self.protocol!r}")
        return self

    @field_validator("protocol")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in PROTOCOLS:
            raise ValueError(f"unknown protocol {value!r}; known: {', '.join(sorted(PROTOCOLS.names()))}")
        return value

    def settings(self) -> Settings:
        return Settings(**{f.name: getattr(self, f.name) for f in fields(Settings) if f.name in self.model_fields})

    def row(self) -> str:
        return self.label or self.protocol


def _keyed(config: dict) -> dict:
    """The label and reference name a row of a table; they do not change what is computed. A setting added later
    is left out at its default, so rows recorded before it existed keep their keys."""
    return {k: v for k, v in config.items() if k not in ("label", "reference")
            and not (k == "speaker_orders" and v == _DEFAULTS.speaker_orders) and not (k == "liar" and not v)}


def run_oversight(config: OversightRun) -> dict[str, Any]:
    import superalign.oversight.scripted  # noqa: F401  (registers the scripted:STYLE debaters)
    from superalign.chat.client import get_chat_model
    from superalign.oversight.items import load_items
    from superalign.oversight.runner import protocol_result

    settings = config.settings()
    items = load_items(config.items, config.n, config.seed)
    clients = clients_for(config.protocol, get_chat_model(config.debater), get_chat_model(config.judge), settings)
    if config.liar:
        clients["liar"] = get_chat_model(config.liar)
    return {**protocol_result(config.protocol, items, clients, settings), "settings": asdict(settings),
            "item_ids": [i.id for i in items], "models": {role: c.backend.identity() for role, c in clients.items()}}


def _fmt(value: float | None, sign: bool = False) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:+.3f}" if sign else f"{value:.3f}"


def _order(metrics: dict) -> str:
    order = metrics.get("order_effect")
    if not order:
        return "-"
    return (f"{order['difference']:+.3f} [{order['difference_lo']:+.3f}, {order['difference_hi']:+.3f}] "
            f"({order['items']} items)")


def _critic(record: dict, reference: dict | None) -> str:
    """Proposer-critic rows: does the critic out-classify the judge alone (the reference row, judged without
    evidence)? Paired over items."""
    from superalign.oversight.runner import critic_versus
    from superalign.oversight.transcript import Transcript

    if "critic_precheck" not in record["result"]["metrics"] or reference is None:
        return "-"
    d = critic_versus([Transcript(**t) for t in record["result"]["transcripts"]],
                      [Transcript(**t) for t in reference["result"]["transcripts"]])
    if d is None:
        return "-"
    return f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]" + (" (critic better)" if d["lo"] > 0 else "")


def summarize_records(records: list[dict]) -> Table:
    from superalign.oversight.runner import paired_difference
    from superalign.oversight.transcript import Transcript

    current = [r for r in records if "label" in r["config"]]
    legacy = len(records) - len(current)
    # rows compare only within one setting: the same items, judge and strong model
    groups: dict[tuple, list[dict]] = {}
    for r in current:
        c = r["config"]
        groups.setdefault((c["items"], c["n"], c["seed"], c["judge"], c["debater"]), []).append(r)
    rows, notes = [], []
    for (items, n, seed, judge, debater), group in sorted(groups.items()):
        by_row = {OversightRun(**r["config"]).row(): r for r in group}
        for name, r in by_row.items():
            m = r["result"]["metrics"]
            signal = m.get("logprob") or m  # the order-averaged log-prob signal where the judge has one
            ref = by_row.get(r["config"]["reference"])
            versus = "-"
            if ref is not None and ref is not r:
                score = "logprob" if "logprob" in m and "logprob" in ref["result"]["metrics"] else "verdict"
                d = paired_difference([Transcript(**t) for t in r["result"]["transcripts"]],
                                      [Transcript(**t) for t in ref["result"]["transcripts"]], score=score)
                versus = f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] vs {r['config']['reference']}"
            strong = debater + (f" vs liar {r['config']['liar']}" if r["config"].get("liar") else "")
            rows.append([f"{items} x{n}" + (f" (seed {seed})" if seed else ""), f"{judge} / {strong}", name,
                         f"{_fmt(signal['accuracy'])} [{_fmt(signal['accuracy_lo'])}, {_fmt(signal['accuracy_hi'])}]",
                         _fmt(signal.get("auroc")), _fmt(signal.get("bias"), sign=True), versus,
                         f"{m['quotes_verified']} / {m['quotes_unverified']}", _order(m), _critic(r, ref),
                         "-" if "logprob" in m else _fmt(m["coverage"]),  # a log-prob signal parses nothing
                         f"{r['result']['seconds']:.0f}"])
    if legacy:
        notes.append(f"{legacy} oversight record(s) of an earlier format are not tabled: run them again as a spec "
                     "(their chat requests are cached, so this costs little)")
    notes.append("accuracy: the order-averaged log-prob signal where the judge gives one, else parsed verdicts "
                 "(unparseable ones count as wrong); intervals: bootstrap over items; differences paired by item")
    return Table("oversight: judge accuracy by protocol", ["items", "judge / strong", "row", "accuracy [95% CI]",
                 "AUROC", "position bias", "difference [95% CI]", "quotes verified / not",
                 "speaker order: correct first - second [95% CI]", "critic - judge alone [95% CI]", "verdicts parsed",
                 "seconds"],
                 rows, notes)


KIND = Kind("oversight", OversightRun, run_oversight, summarize_records, keyed=_keyed,
            help="scalable-oversight protocols (debate, consultancy, ...): a weak judge's accuracy, paired by item")
