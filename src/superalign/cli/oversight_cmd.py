"""`superalign oversight run|w2s|results`: protocols with real language models as strong models and weak judges."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from superalign.cli.console import err, out
from superalign.errors import SuperalignError
from superalign.oversight.protocols import PROTOCOLS, Settings
from superalign.oversight.runner import MIN_COVERAGE
from superalign.engine.store import RunStore

app = typer.Typer(help="Scalable oversight: debate, consultancy, critique, decomposition, direct judging.",
                  no_args_is_help=True)


def _fmt(value) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


@app.command("run")
def run(
    protocol: Annotated[str, typer.Option(help="direct, consultancy, debate, critique, decomposition")] = "debate",
    task: Annotated[str, typer.Option(help="item set: bbc-topics, facts (offline; facts?n_facts=16), quality, quail")] = "bbc-topics",
    n: Annotated[int, typer.Option(help="number of items (each runs in both answer orders)")] = 10,
    debater: Annotated[str, typer.Option(help="strong model: qwen-1.5b, smollm2, hf:PATH, openai:MODEL?base_url=..., "
                                              "scripted:STYLE (fabricate, forge, irrelevant, assert, restate)")] = "smollm2",
    judge: Annotated[str, typer.Option(help="weak judge model")] = "smollm2",
    rounds: Annotated[int, typer.Option(help="debate rounds")] = 2,
    simultaneous: Annotated[bool, typer.Option(help="debaters speak simultaneously")] = False,
    best_of_n: Annotated[int, typer.Option(help="debater arguments sampled; a preference judge picks one")] = 1,
    judge_sees_source: Annotated[bool, typer.Option(help="direct judging with the source text")] = False,
    judge_mode: Annotated[str, typer.Option(help="generate (a parsed verdict), logprob (P(A), P(B) from one forward "
                                                 "pass) or cloze (P of each answer's text); local judges")] = "generate",
    verify_quotes: Annotated[bool, typer.Option(help="check quotes against the source (off: forged tags pass)")] = True,
    unverified_quotes: Annotated[str, typer.Option(help="mark (shown as u_quote) or remove (the judge never reads "
                                                        "them)")] = "mark",
    judge_source_share: Annotated[float, typer.Option(help="share of the source's sentences the judge also reads")] = 0.0,
    judge_answers_last: Annotated[bool, typer.Option(help="list the answers after the evidence (both orders then "
                                                          "share the transcript's KV cache: faster)")] = False,
    speaker_orders: Annotated[int, typer.Option(help="2: each debate also with the other debater first (counterbalanced; "
                                                     "the order effect is reported)")] = 1,
    seed: Annotated[int, typer.Option(help="item sampling seed")] = 0,
    refresh: Annotated[bool, typer.Option(help="recompute even if recorded")] = False,
) -> None:
    """Run a protocol over items; print judge accuracy; store the transcripts with the record. Sugar for a spec of
    kind oversight (`superalign run examples/oversight/ladder.yaml` runs several rows paired on the same items)."""
    from superalign.engine import expand, run_grid
    from superalign.oversight.kind import KIND

    PROTOCOLS.get(protocol)
    Settings(judge_mode=judge_mode, unverified_quotes=unverified_quotes, judge_source_share=judge_source_share)
    label = (protocol + ("+source" if judge_sees_source else "") + ("" if verify_quotes else " (quotes unchecked)")
             + (f" ({judge_mode})" if judge_mode != "generate" else ""))
    spec = {"kind": "oversight", "protocol": protocol, "label": label, "items": task, "n": n, "seed": seed,
            "judge": judge, "debater": debater, "rounds": rounds, "simultaneous": simultaneous,
            "best_of_n": best_of_n, "judge_sees_source": judge_sees_source, "judge_mode": judge_mode,
            "verify_quotes": verify_quotes, "unverified_quotes": unverified_quotes,
            "judge_source_share": judge_source_share, "judge_answers_last": judge_answers_last,
            "speaker_orders": speaker_orders}
    _, configs = expand(spec, where="oversight run")
    result = run_grid(KIND, configs, refresh=refresh, retry_failed=True)
    if result.failures:
        raise SuperalignError(f"oversight run {protocol!r} failed: {result.failures[0]['result'].get('error')}")
    KIND.summarize(result.records).show(out)
    metrics = result.records[0]["result"]["metrics"]
    if "logprob" not in metrics and metrics["coverage"] < MIN_COVERAGE:
        coverage = metrics["coverage"]
        err.print(f"{1 - coverage:.0%} of the verdicts were unparseable: no comparison with this run would mean "
                  "anything; use a judge that follows the format")


def _print(records) -> None:
    table = Table("protocol", "items", "debater", "judge", "transcripts", "coverage", "judge accuracy [95% CI]",
                  "chose A", "extra", "seconds",
                  title="oversight (judge accuracy; an unparseable verdict counts as wrong; interval over items)")
    refused = 0
    for r in records:
        m, c = r["result"]["metrics"], r["config"]
        extra = []
        if "accuracy_assigned_correct" in m:
            extra.append(f"acc when consultant right {_fmt(m['accuracy_assigned_correct'])}, "
                         f"wrong {_fmt(m['accuracy_assigned_incorrect'])}")
        if "logprob" in m:  # the order-averaged log-prob signal: its own accuracy, AUROC and position bias
            lp = m["logprob"]
            extra.append(f"log-prob acc {_fmt(lp['accuracy'])} [{_fmt(lp['accuracy_lo'])}, {_fmt(lp['accuracy_hi'])}], "
                         f"AUROC {_fmt(lp['auroc'])}, bias {_fmt(lp['bias'])}")
        if m.get("quotes_verified") or m.get("quotes_unverified"):
            extra.append(f"quotes {m['quotes_verified']} verified / {m['quotes_unverified']} not")
        models = c["models"]
        strong = next((v for k, v in models.items() if k != "judge"), models["judge"])
        coverage = m.get("coverage", 1 - m["unparseable"] / max(1, m["transcripts"]))
        accuracy = f"{_fmt(m['accuracy'])} [{_fmt(m['accuracy_lo'])}, {_fmt(m['accuracy_hi'])}]"
        if coverage < MIN_COVERAGE:  # too few verdicts parse to compare this protocol with any other
            accuracy, refused = f"n/a ({m['unparseable']} unparseable)", refused + 1
        options = c["settings"]
        table.add_row(c["protocol"] + ("+source" if options.get("judge_sees_source") else "")
                      + ("" if options.get("verify_quotes", True) else " (quotes unchecked)")
                      + (f" ({options['judge_mode']})" if options.get("judge_mode", "generate") != "generate" else ""),
                      f"{c['items']} x{c['n_items']}", str(strong.get("name", strong.get("model"))),
                      str(models["judge"].get("name", models["judge"].get("model"))), str(m["transcripts"]),
                      _fmt(coverage), accuracy, _fmt(m["chose_first_position"]), "; ".join(extra),
                      str(r["result"]["seconds"]))
    out.print(table)
    if refused:
        err.print(f"{refused} run(s) had more than {1 - MIN_COVERAGE:.0%} unparseable verdicts: their accuracy is not "
                  "shown, as no comparison with them would mean anything; use a judge that follows the format")


@app.command("results")
def results() -> None:
    """Every recorded oversight run: the kind's table, and records of the earlier format as they were printed."""
    from superalign.oversight.kind import KIND

    records = RunStore().records(kind="oversight")
    if not records:
        err.print("no oversight runs recorded yet; run `superalign oversight run` first")
        raise typer.Exit(0)
    current = [r for r in records if "label" in r["config"]]
    if current:
        KIND.summarize(current).show(out)
    if legacy := [r for r in records if "label" not in r["config"]]:
        _print(legacy)


@app.command("w2s")
def w2s(
    task: Annotated[str, typer.Option(help="binary task")] = "bbc-business-vs-tech",
    weak: Annotated[str, typer.Option(help="the weak classifier's encoder (the first label source)")] = "minilm-l3",
    strong: Annotated[str, typer.Option(help="student encoder")] = "mpnet",
    protocol: Annotated[list[str], typer.Option(help="judge protocols to compare (direct, consultancy, debate)")] = ["direct", "debate"],
    judge_reads_text: Annotated[bool, typer.Option(help="also the judge reading each text itself (its ceiling)")] = False,
    debater: Annotated[str, typer.Option(help="debater / consultant model (reads the text)")] = "qwen-1.5b",
    judge: Annotated[str, typer.Option(help="judge model (cloze log-probs)")] = "qwen-0.5b",
    sizes: Annotated[str, typer.Option(help="split sizes weak_train,transfer,val,test; every text is judged")] = "40,100,20,100",
    max_chars: Annotated[int, typer.Option(help="each text is cut to this many characters")] = 900,
    seed: Annotated[list[int], typer.Option(help="seed (repeat for several: rows pool them, intervals resample them)")] = [0],
) -> None:
    """W2S runs identical but for the weak labels' source: the weak classifier, or a judge under each protocol."""
    from superalign.data.task import SplitSizes
    from superalign.oversight.w2s import (TABLE_HEADER, compare_label_sources, label_source_configs, per_seed_lines,
                                          table_cells)

    configs = label_source_configs(task, weak, strong, judge, debater, tuple(protocol), judge_reads_text,
                                   seeds=seed, splits=SplitSizes.parse(sizes), max_chars=max_chars)
    rows = compare_label_sources(configs)
    n = rows[0]["n"]
    table = Table(*TABLE_HEADER, title=f"oversight x W2SG on {task}: {weak} classifier or judge {judge} -> {strong} "
                                        f"student ({n['transfer']} transfer, {n['test']} test examples a seed)")
    for r in rows:
        table.add_row(*table_cells(r))
    out.print(table)
    if len(seed) > 1:
        out.print("student test accuracy by seed (its difference to the student on the blind judge's labels):")
        for line in per_seed_lines(rows):
            out.print("  " + line)
    err.print("records in the run store (superalign results); PGR = (student - weak) / (ceiling - weak)")


@app.command("inspect-logs")
def inspect_logs(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the .eval logs (inspect view --log-dir FOLDER)")],
) -> None:
    """Every recorded oversight run as an Inspect AI eval log: transcripts, verdicts and scores in `inspect view`."""
    from superalign.oversight.inspect_log import write_logs

    records = [r for r in RunStore().records(kind="oversight") if "transcripts" in r["result"]]
    if not records:
        err.print("no oversight runs recorded yet; run `superalign oversight run` or a kind: oversight spec first")
        raise typer.Exit(0)
    paths = write_logs(records, out_dir)
    out.print(f"{len(paths)} Inspect logs in {out_dir}; view them with: inspect view --log-dir {out_dir}")
