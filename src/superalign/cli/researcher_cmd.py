"""`superalign researcher run|resume|baseline|report`: the automated alignment researcher, its sandbox, and its
held-out comparison with random and grid search at the same budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err, out
from superalign.errors import SuperalignError

app = typer.Typer(help="An LLM agent that proposes, runs and reflects on W2S experiments (sandboxed).",
                  no_args_is_help=True)


def _study_dir(config) -> Path:
    from superalign.paths import runs_dir

    return runs_dir() / "researcher" / config.config_hash()


def _run(runs: list) -> list[dict]:
    """Sugar for a spec of kind researcher: the runs through the engine (recorded in the run store; a failed run
    is retried, a finished one read back)."""
    from superalign.engine import run_grid
    from superalign.researcher.kind import KIND

    records = run_grid(KIND, runs, retry_failed=True).records
    if failed := [r for r in records if r["status"] != "ok"]:
        raise SuperalignError(f"researcher run failed: {failed[0]['result'].get('error')}")
    return [r["result"] for r in records]


def _print_result(result: dict) -> None:
    h = result["held_out"]
    pgr = "n/a" if h["pgr"] is None else f"{h['pgr']:+.3f}"
    out.print(f"final method: {result['final']['method']} {json.dumps(result['final']['options'])} "
              f"({result['final'].get('chosen_by', '')}); {result['experiments']} dev experiments")
    out.print(f"held-out: weak {h['weak']:.3f}, student {h['student']:.3f}, ceiling {h['ceiling']:.3f}, PGR {pgr} "
              f"over {h['runs']} runs" + (f"; {len(h['failed'])} failed" if h["failed"] else ""))
    if result.get("flags"):
        out.print(f"[bold red]{len(result['flags'])} flagged attempt(s)[/] to leave the sandbox or reach held-out data "
                  "(see `superalign researcher report --transcript`)")


@app.command("run")
def run(
    config: Annotated[Path, typer.Argument(help="study YAML: dev and held-out settings, space, budget")],
    policy: Annotated[str, typer.Option(help="scripted, or chat:MODEL (qwen-1.5b offline; openai:... for servers)")] = "scripted",
    seed: Annotated[int, typer.Option(help="the agent's seed (sampling)")] = 0,
    name: Annotated[Optional[str], typer.Option(help="run folder name (default: policy and seed)")] = None,
) -> None:
    """Run the agent within the budget, then score its final method on the held-out settings."""
    from superalign.researcher.config import load_config
    from superalign.researcher.kind import ResearcherRun

    spec = ResearcherRun(study=load_config(config), researcher=policy, seed=seed, name=name)
    out.print(f"run folder: {spec.folder()}")
    _print_result(_run([spec])[0])


@app.command("resume")
def resume(run_dir: Annotated[Path, typer.Argument(help="the run folder printed by `researcher run`")]) -> None:
    """Continue an interrupted run from its notebook (and evaluate it, if that had not happened)."""
    from superalign.researcher.agent import Researcher
    from superalign.researcher.config import ResearcherConfig
    from superalign.researcher.kind import ResearcherRun
    from superalign.researcher.policies import make_policy

    spec_path = run_dir / "run.json"
    if not spec_path.exists():
        raise SuperalignError(f"{run_dir} is not a researcher run folder (no run.json)")
    spec = json.loads(spec_path.read_text())
    cfg = ResearcherConfig(**spec["config"])
    run = ResearcherRun(study=cfg, researcher=spec["policy"], seed=spec["seed"])
    if run.folder().resolve() != run_dir.resolve():
        run = run.model_copy(update={"name": run_dir.name})
    if run.folder().resolve() == run_dir.resolve():  # where the engine keeps it: resumed and recorded there
        _print_result(_run([run])[0])
    else:  # a folder moved elsewhere: resumed in place
        policy = make_policy(spec["policy"], cfg.space, spec["seed"])
        _print_result(Researcher(cfg, run_dir, policy, seed=spec["seed"]).run())


@app.command("baseline")
def baseline(
    config: Annotated[Path, typer.Argument(help="the same study YAML as the agent's")],
    searcher: Annotated[str, typer.Option(help="random-search, grid-search, defaults or naive")] = "random-search",
    seeds: Annotated[str, typer.Option(help="comma-separated seeds")] = "0,1,2",
) -> None:
    """A search baseline at the agent's budget: the same space, dev experiments and held-out evaluation."""
    from superalign.researcher.config import load_config
    from superalign.researcher.kind import ResearcherRun
    from superalign.researcher.search import SEARCHERS

    if searcher not in SEARCHERS:
        raise SuperalignError(f"unknown searcher {searcher!r}; one of {', '.join(SEARCHERS)}")
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        raise SuperalignError(f"--seeds {seeds!r}: give comma-separated integers, e.g. 0,1,2") from None
    cfg = load_config(config)
    results = _run([ResearcherRun(study=cfg, researcher=searcher, seed=seed) for seed in seed_list])
    for seed, result in zip(seed_list, results):
        out.print(f"[bold]{searcher} seed {seed}[/]")
        _print_result(result)


@app.command("report")
def report(
    config: Annotated[Path, typer.Argument(help="the study YAML")],
    transcript: Annotated[Optional[str], typer.Option(help="print this run's notebook and methods instead")] = None,
) -> None:
    """The held-out comparison of every finished run of the study (Markdown), or one run's transcript."""
    from superalign.researcher.config import load_config
    from superalign.researcher.report import agent_methods, compare, load_results, markdown
    from superalign.researcher.report import transcript as read_transcript

    study = _study_dir(load_config(config))
    if transcript:
        lines = read_transcript(study / transcript)
        if not lines:
            raise SuperalignError(f"no notebook in {study / transcript}; runs: "
                                  f"{', '.join(p.name for p in study.glob('*')) or 'none'}")
        print("\n".join(lines))
        for name, source in agent_methods(study / transcript).items():
            print(f"\n# methods/{name}.py\n{source}")
        return
    results = load_results(study)
    if not results:
        raise SuperalignError(f"no finished runs in {study}; run `superalign researcher run` or `baseline` first")
    print(markdown(compare(results)))
