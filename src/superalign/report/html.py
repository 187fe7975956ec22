"""The static HTML report: reads only the run store, writes index.html and figures/*.png|svg."""

from __future__ import annotations

import html
import time
from pathlib import Path

import pandas as pd

from superalign.errors import SuperalignError
from superalign.io import atomic_path
from superalign.engine.store import RunStore
from superalign.w2s.summary import flatten, summarize

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>superalign report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f3f3f3; }} td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }}
.note {{ color: #666; font-size: 13px; }}
</style></head>
<body data-ready="no">
<h1>superalign report</h1>
<p class="note">{n_runs} weak-to-strong runs ({n_failed} failed) and the other kinds' runs from {store}; generated {when}. Figures are also saved as PNG and SVG in figures/.</p>
{figures}
{evaluation}
{summary}
{runs}
<script>
// Marks the page ready once every figure has loaded with real pixels (the browser test reads this).
window.addEventListener("load", () => {{
  const imgs = Array.from(document.images);
  const ok = imgs.every(i => i.complete && i.naturalWidth > 0);
  document.body.dataset.ready = ok ? "yes" : "broken";
  document.body.dataset.figures = String(imgs.length);
}});
</script>
</body></html>
"""


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0, na_rep="–", escape=True)


def _evaluation_section(store: RunStore, fig_dir: Path) -> str:
    """Tables (and over-optimization figures) of the `superalign eval` records, if there are any."""
    from superalign.evaluation.plots import overoptimization_figure, reliability_figure, save

    parts = []
    rows = []
    for r in store.records(kind="eval-consistency"):
        c = r["config"]
        for model, m in r["result"]["models"].items():
            rows.append({"task": c["task"], "weak -> strong": f"{c['weak']} -> {c['strong']}", "model": model,
                         "error rate": m["error_rate"], "mean inconsistency": m["mean_inconsistency"],
                         "AUROC inconsistency -> error": m["auroc_inconsistency_predicts_error"]})
    if rows:
        parts.append("<h2>Consistency checks</h2>" + _table(pd.DataFrame(rows)))
    for kind, make, title in (("eval-overopt", overoptimization_figure, "Best-of-n over-optimization"),
                              ("eval-calibration", reliability_figure, "Calibration")):
        for r in store.records(kind=kind):
            c = r["config"]
            name = f"{kind}-{r['config_hash'][-8:]}"
            save(make(r["result"], f"{c['task']}: {c['weak']} -> {c['strong']}"), fig_dir / name)
            parts.append(f"<h2>{title}: {html.escape(c['task'])}</h2>\n<img src=\"figures/{name}.png\" alt=\"{title}\">")
    return "\n".join(parts)


def _shutdown_section(store: RunStore, fig_dir: Path) -> str:
    """Figures and the summary table of the `superalign shutdown` records, if there are any."""
    records = store.records(kind="shutdown")
    if not records:
        return ""
    from superalign.evaluation.plots import save
    from superalign.shutdown.experiment import layout_named, summarize
    from superalign.shutdown.plots import layouts_figure, training_curves

    parts = ["<h2>Shutdownable agents: DReST versus the default reward</h2>"]
    rows = [{"agent": r["part"], "reward": r["reward"], "layouts": f"{r['split']} ({r['layouts']})", "seeds": r["seeds"],
             **{f"{m} (95% CI)": f"{r[m][0]:.3f} [{r[m][1]:.3f}, {r[m][2]:.3f}]" for m in ("usefulness", "neutrality", "p_long")}}
            for r in summarize(records)]
    parts.append(_table(pd.DataFrame(rows)))
    if any(r["config"]["part"] == "tabular" for r in records):
        save(training_curves(records), fig_dir / "shutdown-curves")
        parts.append('<img src="figures/shutdown-curves.png" alt="training curves">')
        names = sorted({n for r in records if r["config"]["part"] == "tabular" for n in r["config"]["train_layouts"]})
        save(layouts_figure([layout_named(n) for n in names]), fig_dir / "shutdown-layouts")
        parts.append('<img src="figures/shutdown-layouts.png" alt="training layouts">')
    return "\n".join(parts)


def _alc_section(store: RunStore, fig_dir: Path) -> str:
    """The attacker-learner-critic comparison, its per-round figure and a sample of critiques, if recorded."""
    records = store.records(kind="alc")
    if not records:
        return ""
    from superalign.alc.experiment import HEADER, summarize, table_rows
    from superalign.alc.plots import rounds_figure
    from superalign.evaluation.plots import save

    save(rounds_figure(records), fig_dir / "alc-rounds")
    parts = ["<h2>Attacker-learner-critic versus equal-budget baselines</h2>",
             _table(pd.DataFrame(table_rows(summarize(records)), columns=HEADER)),
             '<img src="figures/alc-rounds.png" alt="attacker-learner-critic rounds">']
    critiques = [c for c in records[0]["result"]["strategies"].get("loop", {}).get("critiques", [])][:8]
    if critiques:
        parts.append("<h3>Critiques (first run, loop)</h3>" + _table(pd.DataFrame(critiques)))
    return "\n".join(parts)


def _probe_section(store: RunStore, fig_dir: Path) -> str:
    """The backdoor probes: attack success against poison rate, and the table, if recorded."""
    records = store.records(kind="probe-backdoor")
    if not records:
        return ""
    from superalign.evaluation.plots import save
    from superalign.probes.experiment import HEADER, summarize, table_rows
    from superalign.probes.plots import attack_success_figure

    save(attack_success_figure(records), fig_dir / "probe-backdoor")
    return "\n".join(["<h2>Backdoored supervision: attack success and defenses</h2>",
                      '<img src="figures/probe-backdoor.png" alt="attack success against poison rate">',
                      _table(pd.DataFrame(table_rows(summarize(records)), columns=HEADER))])


def _oversight_section(store: RunStore, fig_dir: Path) -> str:
    """Persuasiveness: Bradley-Terry ratings of the recorded debater configurations against the judge's accuracy,
    if debates between at least two configurations were judged by one judge with one set of settings."""
    from superalign.oversight.persuasion import matches_from_records, persuasion_table

    matches, left_out = matches_from_records(store.records(kind="oversight"))
    if len({m.correct_side for m in matches} | {m.wrong_side for m in matches}) < 2:
        return ""  # one configuration's ratings say nothing about persuasiveness
    from superalign.evaluation.plots import save
    from superalign.oversight.plots import persuasion_figure

    rows = persuasion_table(matches)
    save(persuasion_figure(rows), fig_dir / "oversight-persuasion")
    note = f"{len(matches)} judged debates" + (f"; {len(left_out)} debate runs judged otherwise are left out"
                                               if left_out else "")
    return "\n".join(["<h2>Debater persuasiveness (Bradley-Terry) and judge accuracy</h2>",
                      f'<p class="note">{html.escape(note)}</p>',
                      '<img src="figures/oversight-persuasion.png" alt="persuasiveness against judge accuracy">',
                      _table(pd.DataFrame(rows).round(3))])


def _researcher_section(store: RunStore) -> str:
    """Per researcher study: the held-out comparison, every flagged attempt, and each agent's transcript and
    methods (collapsed), if any run finished."""
    from superalign.researcher.report import agent_methods, compare, load_results, transcript

    parts = []
    for study in sorted((Path(store.path).parent / "researcher").glob("*")):
        results = load_results(study)
        if not results:
            continue
        rows = pd.DataFrame(compare(results)).round(3)
        parts += [f"<h3>Study {html.escape(study.name)}</h3>", _table(rows.drop(columns=["finals"]))]
        flags = [{"run": Path(r["run_dir"]).name, **f} for r in results for f in r.get("flags", [])]
        if flags:
            parts.append("<h4>Flagged attempts (refused by the sandbox or the tools)</h4>" + _table(pd.DataFrame(flags)))
        for r in results:
            if r.get("kind") != "agent":
                continue
            lines = "\n".join(transcript(Path(r["run_dir"]), width=600))
            methods = "".join(f"<h5>methods/{html.escape(n)}.py</h5><pre>{html.escape(src)}</pre>"
                              for n, src in agent_methods(Path(r["run_dir"])).items())
            parts.append(f"<details><summary>{html.escape(Path(r['run_dir']).name)}: transcript and methods</summary>"
                         f"<pre>{html.escape(lines)}</pre>{methods}</details>")
    return "<h2>Automated researcher: held-out PGR against search at equal budget</h2>\n" + "\n".join(parts) if parts else ""


# kinds whose records have a section of their own above; every other kind is tabled by its own summarize
_OWN_SECTIONS = {"w2s", "eval-consistency", "eval-overopt", "eval-calibration", "shutdown", "alc", "probe-backdoor",
                 "oversight", "researcher"}


def _kinds_section(store: RunStore) -> str:
    """Every other kind in the store (probes, a plugin's kinds), tabled by its own `summarize`."""
    from superalign.engine import KINDS
    from superalign.errors import UnknownNameError

    parts = []
    for name in store.kinds():
        if name in _OWN_SECTIONS:
            continue
        records = store.records(kind=name)
        try:
            table = KINDS.get(name).summarize(records)
        except UnknownNameError:
            parts.append(f'<p class="note">{len(records)} runs of kind {html.escape(name)}: no installed kind '
                         "tables them (install the package that defines it)</p>")
            continue
        parts.append(f"<h2>Kind {html.escape(name)}</h2>" + table.html())
    return "\n".join(parts)


def _w2s_parts(store: RunStore, fig_dir: Path, method: str | None) -> tuple[list[str], str, str, int, int]:
    """The weak-to-strong figures, summary and run tables (empty where the store has no w2s runs)."""
    from superalign.report import figures

    records = store.records(kind="w2s")
    if not records:
        return [], "", "", 0, 0
    df = flatten(records)
    method = method or ("naive" if "naive" in set(df["method"]) else df["method"].iloc[0])
    made = {
        "pgr_by_pair": (figures.pgr_by_pair(df, method), f"PGR by weak/strong pair ({method})"),
        "accuracy_vs_strong_size": (figures.accuracy_vs_strong_size(df, method), f"Accuracy vs strong model size ({method})"),
        "methods": (figures.method_comparison(df), "Method comparison"),
    }
    blocks = []
    for name, (fig, title) in made.items():
        for suffix in ("png", "svg"):
            with atomic_path(fig_dir / f"{name}.{suffix}") as tmp:
                fig.savefig(tmp, format=suffix, dpi=110)
        blocks.append(f"<h2>{html.escape(title)}</h2>\n<img src=\"figures/{name}.png\" alt=\"{html.escape(title)}\">")
        import matplotlib.pyplot as plt

        plt.close(fig)
    summary = ("<h2>Weak-to-strong summary (mean over seeds, PGR with 95% bootstrap interval)</h2>"
               + _table(summarize(df).round(3)))
    runs = df.drop(columns=["git_revision", "test_correct", "group"]).sort_values(["task", "method", "weak", "strong", "seed"])
    return blocks, summary, "<h2>All weak-to-strong runs</h2>" + _table(runs), len(df), len(store.records(kind="w2s", status="failed"))


def build_report(out_dir: Path, store: RunStore | None = None, method: str | None = None) -> Path:
    """Writes the report into `out_dir` and returns the path of index.html."""
    store = store or RunStore()
    if not store.kinds():
        raise SuperalignError(f"{store.path}: no runs to report; run `superalign run SPEC.yaml` (or a sweep) first")
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    blocks, summary, runs, n_runs, n_failed = _w2s_parts(store, fig_dir, method)
    evaluation = (_evaluation_section(store, fig_dir) + _shutdown_section(store, fig_dir) + _alc_section(store, fig_dir)
                  + _probe_section(store, fig_dir) + _oversight_section(store, fig_dir) + _researcher_section(store)
                  + _kinds_section(store))
    page = _PAGE.format(n_runs=n_runs, n_failed=n_failed, store=html.escape(str(store.path)),
                        when=time.strftime("%Y-%m-%d %H:%M"), figures="\n".join(blocks), evaluation=evaluation,
                        summary=summary, runs=runs)
    index = out_dir / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(page)
    return index
