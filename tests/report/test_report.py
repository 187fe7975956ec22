"""The HTML report reads only the store, and renders in a real (headless) browser."""

import re
import shutil

import pytest

from superalign.report.html import build_report
from superalign.engine.store import RunStore
from superalign.runs.w2s import run_all
from superalign.w2s.grid import grid


@pytest.fixture(scope="module")
def filled_template(tmp_path_factory):
    """24 runs, computed once per module; each test gets its own copy of the store."""
    import os

    from superalign.settings import configure

    root, before = tmp_path_factory.mktemp("filled-runs"), os.environ.get("SUPERALIGN_RUNS")
    os.environ["SUPERALIGN_RUNS"] = str(root)
    configure()
    try:
        run_all(grid(["breast-cancer", "digits"], ["pca:2", "pca:8", "raw"], ["naive", "knn-relabel"], [0, 1]))
    finally:
        if before is None:
            os.environ.pop("SUPERALIGN_RUNS")
        else:
            os.environ["SUPERALIGN_RUNS"] = before
        configure()
    return root


@pytest.fixture
def filled_store(runs_dir, filled_template):
    shutil.copytree(filled_template, runs_dir, dirs_exist_ok=True)
    return RunStore()


def test_report_writes_figures_and_tables(filled_store, tmp_path):
    index = build_report(tmp_path / "report", filled_store)
    page = index.read_text()
    for name in ("pgr_by_pair", "accuracy_vs_strong_size", "methods"):
        assert (tmp_path / "report" / "figures" / f"{name}.png").stat().st_size > 5000
        assert (tmp_path / "report" / "figures" / f"{name}.svg").exists()
        assert f'figures/{name}.png' in page
    assert page.count("<tr") > 24  # summary rows plus one row per run
    assert "knn-relabel" in page and "breast-cancer" in page


def test_report_needs_runs(runs_dir, tmp_path):
    from superalign.errors import SuperalignError

    with pytest.raises(SuperalignError, match="no runs to report"):
        build_report(tmp_path / "r", RunStore())


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(filled_store, tmp_path):
    from superalign.report.browser import render

    index = build_report(tmp_path / "report", filled_store)
    shot = tmp_path / "shot.png"
    dom, console = render(index, screenshot=shot)
    assert re.search(r'data-ready="yes"', dom), "figures did not load in the browser"
    assert 'data-figures="3"' in dom
    assert console == []  # no console errors or messages at all
    assert shot.stat().st_size > 20000


def test_report_includes_evaluation_records(filled_store, tmp_path):
    from superalign.evaluation.overoptimization import overoptimization_report
    from superalign.engine.record import make_record
    from superalign.w2s.pipeline import ExperimentConfig

    config = ExperimentConfig(task="digits", weak="pca:2", strong="raw")
    result = overoptimization_report(config, draws=200)
    filled_store.put(make_record("eval-overopt", config.model_dump(mode="json"), "eval-overopt-x", result))
    page = build_report(tmp_path / "report", filled_store).read_text()
    assert "Best-of-n over-optimization: digits" in page
    assert len(list((tmp_path / "report" / "figures").glob("eval-overopt-*.png"))) == 1


def test_report_includes_shutdown_records(filled_store, tmp_path):
    from superalign.engine.record import make_record
    from superalign.shutdown.experiment import configs_from_spec, keyed_run, run_key, run_one

    runs = configs_from_spec({"seeds": [0], "part": "tabular", "train_layouts": ["example"], "meta_episodes": 10,
                              "eval_episodes": 10})
    for c in (keyed_run(r.model_dump(mode="json")) for r in runs):
        filled_store.put(make_record("shutdown", c, run_key(c), run_one(c)))
    page = build_report(tmp_path / "report", filled_store).read_text()
    assert "Shutdownable agents: DReST versus the default reward" in page
    for name in ("shutdown-curves", "shutdown-layouts"):
        assert (tmp_path / "report" / "figures" / f"{name}.png").stat().st_size > 2000


def test_report_includes_attacker_learner_critic_records(filled_store, tmp_path):
    from superalign.alc.experiment import configs_from_spec, run_configs

    run_configs(configs_from_spec({"task": "digits", "weak": "pca:4", "strong": "raw", "rounds": 2, "queries": 20,
                                   "expert_budget": 6, "seeds": 1}), store=filled_store)
    page = build_report(tmp_path / "report", filled_store).read_text()
    assert "Attacker-learner-critic versus equal-budget baselines" in page
    assert (tmp_path / "report" / "figures" / "alc-rounds.png").stat().st_size > 5000
    assert "nearest labelled examples agree" in page  # the critiques are shown


def test_report_includes_backdoor_probes(filled_store, tmp_path):
    from superalign.probes.experiment import configs_from_spec, run_configs

    run_configs(configs_from_spec({"task": "bbc-business-vs-rest", "weak": "tfidf", "strong": "minilm-l3",
                                   "poison_rate": [0.0, 0.1], "target": 1, "seeds": 1, "defenses": ["naive"]}),
                store=filled_store)
    page = build_report(tmp_path / "report", filled_store).read_text()
    assert "Backdoored supervision: attack success and defenses" in page
    assert (tmp_path / "report" / "figures" / "probe-backdoor.png").stat().st_size > 5000


def test_report_includes_debater_persuasiveness(filled_store, tmp_path):
    from superalign.chat.client import ChatClient, MockChat
    from superalign.oversight.items import load_items
    from superalign.oversight.persuasion import cross_play
    from superalign.oversight.protocols import Settings
    from superalign.oversight.scripted import ScriptedDebater

    debaters = [ChatClient(ScriptedDebater(style)) for style in ("fabricate", "assert")]
    cross_play(load_items("facts", 4), debaters, ChatClient(MockChat()), Settings(judge_mode="cloze", rounds=1),
               item_set="facts", store=filled_store)
    page = build_report(tmp_path / "report", filled_store).read_text()
    assert "Debater persuasiveness (Bradley-Terry) and judge accuracy" in page and "16 judged debates" in page
    assert (tmp_path / "report" / "figures" / "oversight-persuasion.png").stat().st_size > 5000


def test_report_includes_researcher_studies_with_transcripts_and_flags(filled_store, tmp_path):
    from superalign.paths import runs_dir
    from superalign.researcher.agent import Researcher
    from superalign.researcher.config import ResearcherConfig
    from superalign.researcher.policies import ScriptedPolicy

    config = ResearcherConfig(dev=[{"task": "digits", "weak": "pca:2", "strong": "raw"}], dev_seeds=[0],
                              held_out=[{"task": "breast-cancer", "weak": "pca:2", "strong": "raw"}],
                              held_out_seeds=[100], budget=1)
    script = [{"tool": "write_method", "args": {"name": "mine", "code": "def fit_predict(**kw):\n    pass\n"}},
              {"tool": "write_method", "args": {"name": "../escape", "code": ""}},
              {"tool": "run_experiment", "args": {"method": "naive"}}]
    run_dir = runs_dir() / "researcher" / config.config_hash() / "scripted-s0"
    Researcher(config, run_dir, ScriptedPolicy(script), embed=None).run()
    page = build_report(tmp_path / "report", filled_store).read_text()
    assert "Automated researcher: held-out PGR" in page and config.config_hash() in page
    assert "methods/mine.py" in page and "[0:hypothesis]" in page
    assert "method name &#x27;../escape&#x27;" in page  # the flagged attempt is listed
