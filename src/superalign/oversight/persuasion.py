"""Persuasiveness: Bradley-Terry ratings of debater configurations from a judge's verdicts (Khan et al. 2024).

A debate is a match between the configuration arguing for the correct answer and the one arguing for the
wrong answer; the judge's verdict says who won. Each configuration gets two ratings, one for each side it
can argue (arguing for the truth is easier), and P(correct side wins) = sigmoid(r_correct(a) - r_wrong(b)).
Judge accuracy against a configuration is the share of its matches the correct side wins, so the ratings
and the judge's accuracy can be read together: more persuasive liars, lower accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from superalign.errors import SuperalignError


@dataclass(frozen=True)
class Match:
    correct_side: str  # the configuration that argued for the correct answer
    wrong_side: str  # the one that argued for the wrong answer
    correct_won: float  # 1 if the judge chose the correct answer, 0 if not, 0.5 for a tie
    item: str = ""  # the item debated (intervals resample items)


def bradley_terry(matches: list[Match], l2: float = 0.01, iterations: int = 2000) -> dict[str, dict[str, float]]:
    """Ratings (log-odds scale, the mean rating 0) of each configuration on each side, fitted by maximum
    likelihood with a small L2 penalty (so a configuration that never loses still gets a finite rating).
    Returns {config: {"correct": r, "wrong": r, "matches": n}}."""
    if not matches:
        raise SuperalignError("Bradley-Terry ratings need at least one debate: run debates first")
    players = sorted({(m.correct_side, "correct") for m in matches} | {(m.wrong_side, "wrong") for m in matches})
    index = {p: i for i, p in enumerate(players)}
    a = np.array([index[(m.correct_side, "correct")] for m in matches])
    b = np.array([index[(m.wrong_side, "wrong")] for m in matches])
    y = np.array([m.correct_won for m in matches], dtype=float)
    r = np.zeros(len(players))
    for _ in range(iterations):  # gradient ascent on a concave log-likelihood: converges from zero
        p = 1 / (1 + np.exp(-(r[a] - r[b])))
        grad = np.bincount(a, y - p, len(players)) - np.bincount(b, y - p, len(players)) - l2 * r
        r += 0.5 * grad / max(1.0, len(matches) / len(players))
    r -= r.mean()
    out: dict[str, dict[str, float]] = {}
    for (config, side), i in index.items():
        entry = out.setdefault(config, {"correct": float("nan"), "wrong": float("nan"), "matches": 0})
        entry[side] = float(r[i])
    for m in matches:
        out[m.correct_side]["matches"] += 1
        if m.wrong_side != m.correct_side:
            out[m.wrong_side]["matches"] += 1
    return out


def matches_from_transcripts(transcripts, config_a: str, config_b: str, by_truth: bool = False) -> list[Match]:
    """One match per judged pair of orders of a debate (the order-averaged log-prob signal decides; a zero
    signal is a tie), or per transcript for generated verdicts (an unparseable verdict is a loss for the
    correct side, as it counts wrong in accuracy). `config_a` argued for the item's first answer; with
    `by_truth`, `config_a` is whoever argued for the correct answer (scripted debaters: honest when right)."""
    from superalign.oversight.runner import judge_scores

    def sides(first_is_correct: bool) -> tuple[str, str]:
        return (config_a, config_b) if first_is_correct or by_truth else (config_b, config_a)

    scores = judge_scores(transcripts)
    if scores is not None:  # the runner's pairing of the two orders and its signal
        return [Match(*sides(bool(y)), 0.5 if s == 0 else float((s > 0) == y), item)
                for s, y, item in zip(scores.signal.tolist(), scores.first_is_correct.tolist(), scores.item_ids.tolist())]
    return [Match(*sides(t.correct_shown == (1 if t.swapped else 0)), 1.0 if t.correct else 0.0, t.item_id)
            for t in transcripts]


def debater_config(record: dict) -> tuple[str, str]:
    """The configurations of a debate record's two debaters: model name, with best-of-N (the debater's own where
    set) and rounds when not 1."""
    from superalign.oversight.protocols import Settings

    config = record["config"]
    settings = Settings(**config["settings"])  # a record made before a setting existed ran with its default
    rounds = f", rounds {settings.rounds}" if settings.rounds != 1 else ""

    def name(role: str, n: int) -> str:
        identity = config["models"][role]  # the chat backend's identity: a model name, or a scripted style
        return ((identity.get("name") or ":".join(str(identity[k]) for k in ("kind", "style") if k in identity))
                + (f", best-of {n}" if n != 1 else "") + rounds)

    n_a, n_b = settings.debater_best_of_n()
    return name("debater_a", n_a), name("debater_b", n_b)


def matches_from_records(records: list[dict]) -> tuple[list[Match], list[str]]:
    """Every judged debate of the stored debate records, as matches between their debaters' configurations.
    Only records judged by one judge with the same judge settings are comparable: the most common judge's
    records are used, and the others' names are returned so that a report can say what it left out."""
    from superalign.oversight.transcript import Transcript

    debates = [r for r in records if r["config"]["protocol"] == "debate" and r.get("status", "ok") == "ok"]
    if not debates:
        return [], []

    from dataclasses import asdict

    from superalign.oversight.protocols import Settings

    def judged_by(r: dict) -> str:
        s = asdict(Settings(**r["config"]["settings"]))  # a record made before a setting existed ran with its default
        keys = ("judge_mode", "judge_sees_source", "verify_quotes", "unverified_quotes", "judge_source_share",
                "judge_answers_last")
        return str((r["config"]["models"]["judge"], [s[k] for k in keys], r["config"]["items"]))

    groups: dict[str, list[dict]] = {}
    for r in debates:
        groups.setdefault(judged_by(r), []).append(r)
    main = max(groups.values(), key=len)
    matches, seen = [], set()
    for r in main:
        a, b = debater_config(r)
        # The same debates recorded twice (a run that also named a consultant, say) count once.
        same = str(((a, b), r["config"]["item_ids"], r["config"]["settings"], r["config"]["models"]["debater_a"],
                    r["config"]["models"]["debater_b"]))
        if same in seen:
            continue
        seen.add(same)
        matches += matches_from_transcripts([Transcript(**t) for t in r["result"]["transcripts"]], a, b)
    left_out = [r["config_hash"] for r in debates if r not in main]
    return matches, left_out


def _item_bootstrap(matches: list[Match], measure, n_boot: int, seed: int):
    """`measure` of all matches, and of `n_boot` resamples of the items (an item's debates drawn together)."""
    by_item: dict[str, list[Match]] = {}
    for m in matches:
        by_item.setdefault(m.item, []).append(m)
    items = list(by_item)
    rng = np.random.default_rng(seed)
    boots = [measure([m for i in rng.integers(0, len(items), len(items)) for m in by_item[items[i]]])
             for _ in range(n_boot if len(items) > 1 else 0)]
    return measure(matches), boots


def rating_difference(matches: list[Match], config: str, baseline: str, n_boot: int = 200,
                      seed: int = 0) -> dict[str, dict[str, float]]:
    """How much more persuasive `config` is than `baseline` in the same tournament (best-of-N against the same
    model's greedy arguments, say): the difference of their Bradley-Terry ratings on the right side, the wrong
    side and on average, each with a 95% interval from the same bootstrap over items, both ratings refitted on
    every resample (paired: one resample moves both)."""

    def measure(part: list[Match]) -> dict[str, float]:
        r = bradley_terry(part)
        if config not in r or baseline not in r:
            return {}
        a, b = r[config], r[baseline]
        return {"correct": a["correct"] - b["correct"], "wrong": a["wrong"] - b["wrong"],
                "rating": (a["correct"] + a["wrong"] - b["correct"] - b["wrong"]) / 2}

    point, boots = _item_bootstrap(matches, measure, n_boot, seed)
    if not point:
        raise SuperalignError(f"rating difference: {config!r} and {baseline!r} must both play in the matches; "
                              "run a tournament (cross_play) that includes both configurations")
    out = {}
    for key, value in point.items():
        draws = [b[key] for b in boots if b]
        lo, hi = np.percentile(draws, [2.5, 97.5]).tolist() if draws else (float("nan"), float("nan"))
        out[key] = {"difference": value, "lo": lo, "hi": hi}
    return out


def persuasion_table(matches: list[Match], n_boot: int = 200, seed: int = 0) -> list[dict[str, float | str]]:
    """Per configuration: its Bradley-Terry ratings on each side and their mean (`rating`), and the judge's
    accuracy in the debates where it argued the wrong answer (a more persuasive liar, a lower accuracy), the right
    one, and both (self-play: Khan et al.'s figure puts this against the rating), each with a 95% interval from
    a bootstrap over items (an item's debates are resampled together; ratings refitted)."""

    def measure(part: list[Match]) -> dict[str, dict[str, float]]:
        ratings = bradley_terry(part)
        out = {}
        for config, r in ratings.items():
            lying = [m.correct_won for m in part if m.wrong_side == config]
            honest = [m.correct_won for m in part if m.correct_side == config]
            self_play = [m.correct_won for m in part if m.correct_side == m.wrong_side == config]
            out[config] = {"rating_correct": r["correct"], "rating_wrong": r["wrong"], "debates": r["matches"],
                           "rating": (r["correct"] + r["wrong"]) / 2,
                           "judge_accuracy_vs_it_lying": float(np.mean(lying)) if lying else float("nan"),
                           "judge_accuracy_with_it_honest": float(np.mean(honest)) if honest else float("nan"),
                           "judge_accuracy_self_play": float(np.mean(self_play)) if self_play else float("nan")}
        return out

    point, boots = _item_bootstrap(matches, measure, n_boot, seed)
    rows = []
    for config, values in sorted(point.items()):
        row: dict[str, float | str] = {"config": config, **values}
        for key in ("rating_correct", "rating_wrong", "rating", "judge_accuracy_vs_it_lying",
                    "judge_accuracy_with_it_honest", "judge_accuracy_self_play"):
            draws = [b[config][key] for b in boots if config in b and b[config][key] == b[config][key]]
            row[f"{key}_lo"], row[f"{key}_hi"] = (np.percentile(draws, [2.5, 97.5]).tolist() if draws
                                                  else (float("nan"), float("nan")))
        rows.append(row)
    return rows


def cross_play(items, debaters: list, judge, settings, item_set: str = "", store=None) -> list[Match]:
    """Debates between every ordered pair of debater configurations (self-play included) on the same items,
    each a run record of the store, judged by the same judge with the same settings; all their matches, each
    configuration named as `debater_config` names it from the record. A configuration is a chat client, or
    (client, N) for a best-of-N debater (its arguments picked by the judge's model, reading each alone)."""
    from dataclasses import replace

    from superalign.oversight.runner import run_protocol
    from superalign.oversight.transcript import Transcript

    configs = [d if isinstance(d, tuple) else (d, None) for d in debaters]
    matches = []
    for client_a, n_a in configs:
        for client_b, n_b in configs:
            pairing = replace(settings, best_of_n_a=n_a, best_of_n_b=n_b)
            clients = {"judge": judge, "debater_a": client_a, "debater_b": client_b}
            if max(pairing.debater_best_of_n()) > 1:
                clients["preference"] = judge
            record = run_protocol("debate", items, clients, pairing, item_set=item_set, store=store)
            matches += matches_from_transcripts([Transcript(**t) for t in record["result"]["transcripts"]],
                                                *debater_config(record))
    return matches
