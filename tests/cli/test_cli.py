"""The CLI end to end (in-process with typer's runner), including the error paths."""

import subprocess
import sys

from typer.testing import CliRunner

from superalign.cli.main import build_app


def invoke(args, **kwargs):
    """Runs `superalign ARGS` in process, with only the named command imported (as the real entry point does)."""
    return CliRunner().invoke(build_app(args[0]), args, **kwargs)


def test_data_list_and_show():
    result = invoke(["data", "list"])
    assert result.exit_code == 0
    for name in ["bbc-news", "bbc-sport-vs-tech", "breast-cancer", "digits", "fashion-mnist", "sciq", "anthropic-hh"]:
        assert name in result.output
    shown = invoke(["data", "show", "bbc-news"])
    assert shown.exit_code == 0 and "weak_train" in shown.output and "business" in shown.output


def test_embed_twice_second_from_cache():
    first = invoke(["embed", "--task", "bbc-news", "--model", "minilm-l3"])
    second = invoke(["embed", "--task", "bbc-news", "--model", "minilm-l3"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "from cache" in second.output and "(2225, 384)" in second.output
    listing = invoke(["cache", "ls"])
    assert "minilm-l3" in listing.output


def test_run_then_results_and_export(runs_dir, tmp_path):
    args = ["run", "--task", "bbc-sport-vs-tech", "--weak", "minilm-l3", "--strong", "minilm-l6",
            "--method", "naive", "--method", "aux-conf", "--seeds", "2"]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert "PGR" in result.output and "aux-conf" in result.output
    again = invoke(args)
    assert "4 runs (4 from the store, 0 failed)" in again.output
    out = tmp_path / "all.csv"
    exported = invoke(["results", "--export", str(out)])
    assert exported.exit_code == 0 and out.read_text().count("\n") == 5


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "superalign.cli.main", *args], capture_output=True, text=True, env=env)


def test_run_after_a_sweep_recorded_a_failure_prints_it_as_a_failure(runs_dir, tmp_path):
    import os

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("tasks: [breast-cancer]\nladder: [pca:1, raw]\nmethods: [naive, finetune]\nseeds: 1\n")
    env = {**os.environ, "SUPERALIGN_RUNS": str(runs_dir)}
    swept = _cli("sweep", str(sweep), "--executor", "local", env=env)
    assert swept.returncode == 0 and "1 failed" in swept.stderr
    run = _cli("run", "--task", "breast-cancer", "--weak", "pca:1", "--strong", "raw", "--method", "naive",
               "--method", "finetune", "--seeds", "1", env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "failed (recorded earlier): breast-cancer pca:1 -> raw finetune seed 0" in run.stderr
    assert "naive" in run.stdout  # the runs that did succeed are still shown
    assert _cli("results", env=env).returncode == 0
    assert "finetune" in _cli("results", "--failed", env=env).stdout


def test_errors_are_one_line_with_a_fix_and_exit_2(tmp_path):
    unknown = _cli("run", "--task", "bbc-nwes", "--weak", "minilm-l3", "--strong", "minilm-l6")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0 and "did you mean 'bbc-news'" in unknown.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": 1}\n{oops}\n')
    malformed = _cli("data", "show", f"file:{bad}")
    assert malformed.returncode == 2 and "bad.jsonl:2:" in malformed.stderr
    option = _cli("run", "--method", "aux-conf", "-o", "aux_coef=7", "--task", "bbc-news")
    assert option.returncode == 2 and "aux_coef" in option.stderr


def test_decide_runs_the_examples():
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples" / "decision"
    result = invoke(["decide", str(examples / "shutdown-manipulation.yaml"), "--rule", "myopic"])
    assert result.exit_code == 0, result.output
    assert "pump" in result.output and "half-half" in result.output and "manipulate" in result.output
    eu = invoke(["decide", str(examples / "timestep-vs-eu.yaml"), "--rule", "eu"])
    assert "expected utility 6/5 < 9/5" in eu.output
    bad = _cli("decide", str(examples / "sweetening.yaml"), "--rule", "dms")
    assert bad.returncode == 2 and "did you mean 'dsm'" in bad.stderr


def test_decide_separates_pumps_from_cross_relation_comparisons():
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples" / "decision"
    eu = invoke(["decide", str(examples / "timestep-vs-eu.yaml"), "--rule", "eu"])
    assert "no pump: by the agent's own relation (eu)" in eu.output
    assert "cross-relation (not a pump" in eu.output
    button = invoke(["decide", str(examples / "shutdown-button.yaml"), "--rule", "dsm", "--base", "timestep"])
    assert button.exit_code == 0 and "shutdown manipulation" not in button.output


def test_shutdown_layout_and_a_small_run(runs_dir, tmp_path):
    layout = invoke(["shutdown", "layout", "example", "--png", str(tmp_path / "example.png")])
    assert layout.exit_code == 0 and "most coins: {'short': 1, 'long': 2}" in layout.output
    assert (tmp_path / "example.png").stat().st_size > 0
    config = tmp_path / "small.yaml"
    config.write_text("seeds: [0]\nparts: [tabular]\ntrain_layouts: [example]\nmeta_episodes: 10\neval_episodes: 10\n")
    first = invoke(["shutdown", "run", str(config)])
    assert first.exit_code == 0, first.output
    assert "| REINFORCE (tabular) | drest | train (1) | 1 |" in first.output
    shown = invoke(["shutdown", "show", str(config)])
    assert shown.exit_code == 0 and "| REINFORCE (tabular) | default | train (1) | 1 |" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rewards: [coins]\n")
    assert invoke(["shutdown", "run", str(bad)]).exit_code != 0


def test_eval_commands_print_and_save_figures(runs_dir, tmp_path):
    args = ["--task", "digits", "--weak", "pca:4", "--strong", "raw", "--out-dir", str(tmp_path)]
    over = invoke(["eval", "overopt", *args])
    assert over.exit_code == 0, over.output
    assert "measured peak n" in over.output and (tmp_path / "overopt-digits.png").exists()
    cal = invoke(["eval", "calibration", *args])
    assert cal.exit_code == 0 and "ECE" in cal.output and (tmp_path / "reliability-digits.svg").exists()
    cons = invoke(["eval", "consistency", "--task", "digits", "--weak", "pca:4", "--strong", "raw"])
    assert cons.exit_code == 0 and "AUROC inconsistency" in cons.output
    from superalign.engine.store import RunStore

    kinds = {r["kind"] for r in RunStore().records()}
    assert kinds >= {"eval-overopt", "eval-calibration", "eval-consistency"}


def test_every_command_has_help_and_the_one_command_groups_stay_groups():
    from superalign.cli.main import COMMANDS

    top = _cli("--help")
    assert top.returncode == 0 and all(name in top.stdout for name in COMMANDS)
    assert _cli("dat", "list").returncode == 2 and "did you mean 'data'" in _cli("dat", "list").stderr
    for name in COMMANDS:
        result = invoke([name, "--help"])
        assert result.exit_code == 0, (name, result.output)
    methods = invoke(["methods", "list"], env={"COLUMNS": "200"})
    assert methods.exit_code == 0, methods.output
    assert "labels read" in methods.output and "strong-on-supervisor-labels" in methods.output
    assert "supervisor-gt-strong" in methods.output
    models = invoke(["models", "list"])
    assert models.exit_code == 0 and "qwen-1.5b" in models.output


def test_oversight_run_with_scripted_debaters_and_a_logprob_judge(runs_dir):
    result = invoke(["oversight", "run", "--protocol", "debate", "--task", "facts?n_facts=4", "--n", "3",
                     "--debater", "scripted:forge", "--judge", "mock", "--judge-mode", "cloze", "--rounds", "1",
                     "--unverified-quotes", "remove"])
    assert result.exit_code == 0, result.output
    assert "debate (cloze)" in result.output and "facts?n_facts=4 x3" in result.output
    bad = _cli("oversight", "run", "--task", "facts", "--n", "2", "--judge", "mock", "--judge-mode", "letters")
    assert bad.returncode == 2 and "judge_mode must be one of generate, logprob, cloze" in bad.stderr
    bad_style = _cli("oversight", "run", "--task", "facts", "--n", "2", "--debater", "scripted:bluff")
    assert bad_style.returncode == 2 and "use one of fabricate" in bad_style.stderr


def test_oversight_w2s_and_run_with_a_judge_supervisor(runs_dir):
    """Plumbing (the mock judge's log-probs carry no signal): the comparison and a single run with a judge as
    the weak supervisor go through the W2S pipeline and its store."""
    common = ["--weak", "minilm-l3", "--strong", "minilm-l6", "--task", "bbc-business-vs-tech"]
    result = invoke(["oversight", "w2s", *common, "--judge", "mock", "--protocol", "direct",
                     "--sizes", "40,120,30,80", "--max-chars", "200", "--seed", "0", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "weak classifier" in result.output and "judge, direct" in result.output and "120 transfer" in result.output
    assert "by seed" in result.output and "seed 1: " in result.output
    single = invoke(["run", *common, "--method", "naive", "--seeds", "1", "--sizes", "40,120,30,80",
                     "--supervisor", "judge", "--supervisor-option", "protocol=direct",
                     "--supervisor-option", "judge=mock", "--supervisor-option", "debater=qwen-1.5b",
                     "--supervisor-option", "max_chars=200"])
    assert single.exit_code == 0, single.output
    from superalign.engine.store import RunStore

    assert RunStore().count() == 4  # the single run is the comparison's seed-0 judge run, read from the store
    bad = _cli("run", *common, "--supervisor", "judge", "--supervisor-option", "protocl=direct")
    assert bad.returncode == 2 and "protocl" in bad.stderr and bad.stderr.count("\n") == 1


def test_alc_run_prints_the_comparison_and_bad_input_is_one_line(runs_dir, tmp_path):
    import os

    env = {**os.environ, "SUPERALIGN_RUNS": str(runs_dir)}
    run = _cli("alc", "run", "--rounds", "1", "--queries", "20", "--expert-budget", "6", "--seeds", "1", env=env)
    assert run.returncode == 0, run.stderr
    assert "uncertainty-experts" in run.stdout and "budget 6" in run.stdout
    assert "| loop |" in _cli("alc", "results", "--markdown", env=env).stdout
    rounds = _cli("alc", "results", "--rounds", env=env).stdout
    assert "| digits, pca:4 -> raw, disagreement, weak, budget 6 | 1 | 20 |" in rounds
    bad_json = _cli("alc", "run", "--critic", "{name: lm", env=env)
    assert bad_json.returncode == 2 and bad_json.stderr.count("\n") == 1 and "not valid JSON" in bad_json.stderr
    same = _cli("alc", "run", "--attacker", "knn", "--eval-attacker", "knn", "--seeds", "1", env=env)
    assert same.returncode == 2 and "fresh one" in same.stderr and same.stderr.count("\n") == 1
    config = tmp_path / "alc.yaml"
    config.write_text("runs: {task: digits}\n")
    assert "runs: {'task': 'digits'} is not a list of mappings" in _cli("alc", "run", "--config", str(config), env=env).stderr


def test_probe_commands_print_their_tables_and_bad_input_is_one_line(runs_dir):
    import os

    env = {**os.environ, "SUPERALIGN_RUNS": str(runs_dir)}
    run = _cli("probe", "backdoor", "--strong", "minilm-l3", "--poison-rate", "0.1", "--seeds", "1", env=env)
    assert run.returncode == 0, run.stderr
    assert "knn-filter" in run.stdout and "attack success" in run.stdout
    assert "| 0.1 | naive |" in _cli("probe", "results", "--markdown", env=env).stdout
    assert "| poison 0.1 |" in _cli("probe", "results", "--pivot", "0.1", env=env).stdout
    bad = _cli("probe", "backdoor", "--target", "9", "--seeds", "1", env=env)
    last = bad.stderr.strip().splitlines()[-1]  # after the counts line: one error line, no traceback
    assert bad.returncode == 2 and last.startswith("error:") and "target 9 is not a class" in last
    assert "Traceback" not in bad.stderr
    deception = _cli("probe", "deception", "--strong", "pca:16", "--strength", "0.5", "--seeds", "1", env=env)
    assert deception.returncode == 0, deception.stderr
    assert "deception score" in deception.stdout and "pca:4 -> pca:16" in deception.stdout


def test_researcher_commands_run_resume_report_and_bad_input_is_one_line(runs_dir, tmp_path):
    import os

    env = {**os.environ, "SUPERALIGN_RUNS": str(runs_dir)}
    study = tmp_path / "study.yaml"
    study.write_text("dev: [{task: digits, weak: 'pca:4', strong: raw, max_examples: 600}]\ndev_seeds: [0]\n"
                     "held_out: [{task: breast-cancer, weak: 'pca:1', strong: raw}]\nheld_out_seeds: [100]\n"
                     "space: {naive: {}, aux-conf: {aux_coef: [0.75, 0.5]}}\nbudget: 3\n")
    run = _cli("researcher", "run", str(study), env=env)
    assert run.returncode == 0, run.stderr
    assert "final method:" in run.stdout and "held-out:" in run.stdout and "step 5: test_method" in run.stderr
    folder = run.stdout.split("run folder: ")[1].split()[0]
    again = _cli("researcher", "resume", folder, env=env)  # finished: read back, nothing recomputed
    assert again.returncode == 0 and again.stdout.splitlines()[-1] == run.stdout.splitlines()[-1]
    assert _cli("researcher", "baseline", str(study), "--searcher", "grid-search", "--seeds", "0", env=env).returncode == 0
    table = _cli("researcher", "report", str(study), env=env).stdout
    assert "| scripted | 1 | 3 |" in table and "| grid-search | 1 | 3 |" in table
    notes = _cli("researcher", "report", str(study), "--transcript", "scripted-s0", env=env).stdout
    assert "[0:hypothesis]" in notes and "# methods/confident_subset.py" in notes
    for args, message in [(("run", str(study), "--policy", "gpt"), "unknown policy"),
                          (("run", str(tmp_path / "missing.yaml")), "no such researcher config"),
                          (("baseline", str(study), "--seeds", "a,b"), "comma-separated integers")]:
        bad = _cli("researcher", *args, env=env)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and message in bad.stderr, bad.stderr
