"""Oversight runs exported as Inspect AI eval logs and read back with Inspect's own reader: a sample per
transcript, every turn a message, verdicts scored, the transcripts of an item (answer positions, speaker orders) as its epochs."""

import pytest

from superalign.engine import expand, run_grid

pytest.importorskip("inspect_ai")


def test_a_counterbalanced_debate_reads_back_through_inspect(runs_dir, tmp_path):
    from inspect_ai.log import read_eval_log

    from superalign.oversight.inspect_log import write_logs

    spec = {"kind": "oversight", "protocol": "debate", "judge": "mock", "debater": "scripted:fabricate",
            "items": "bbc-cloze?max_chars=900", "n": 3, "speaker_orders": 2}
    kind, configs = expand(spec)
    record = run_grid(kind, configs).records[0]
    [path] = write_logs([record], tmp_path / "logs")
    log = read_eval_log(str(path))
    transcripts = record["result"]["transcripts"]
    assert log.status == "success" and log.eval.task == "superalign/oversight/debate"
    # each item judged with its answers in both positions, each in both speaker orders: the item's epochs 1-4
    assert len(log.samples) == len(transcripts) == 12
    ids = {t["item_id"] for t in transcripts}
    assert sorted((s.id, s.epoch) for s in log.samples) == sorted((i, e) for i in ids for e in (1, 2, 3, 4))
    epochs, by_sample = {}, {}
    for t in transcripts:  # the exporter's numbering: an item's transcripts in the order they were recorded
        epochs[t["item_id"]] = epochs.get(t["item_id"], 0) + 1
        by_sample[(t["item_id"], epochs[t["item_id"]])] = t
    for sample in log.samples:
        t = by_sample[(sample.id, sample.epoch)]
        assert sample.target == "AB"[t["correct_shown"]]
        assert len(sample.messages) == 1 + len(t["turns"]) and "[judge" in sample.messages[-1].text
        expected = "N" if t["verdict"] is None else ("C" if t["verdict"] == t["correct_shown"] else "I")
        assert sample.scores["judge_correct"].value == expected
        assert sample.metadata["swapped"] == t["swapped"] and "source_hidden_from_judge" in sample.metadata
    [score] = log.results.scores
    assert score.metrics["accuracy"].value == pytest.approx(record["result"]["metrics"]["accuracy"])
    assert log.eval.metadata["superalign"]["config_hash"] == record["config_hash"]


def test_the_cli_writes_a_log_per_recorded_run(runs_dir, tmp_path):
    from inspect_ai.log import list_eval_logs
    from typer.testing import CliRunner

    from superalign.cli.main import build_app

    kind, configs = expand({"kind": "oversight", "judge": "mock", "debater": "mock", "n": 2,
                            "runs": [{"protocol": "direct"}, {"protocol": "consultancy"}]})
    assert run_grid(kind, configs).done == 2
    args = ["oversight", "inspect-logs", "--out", str(tmp_path / "logs")]
    result = CliRunner().invoke(build_app("oversight"), args)
    assert result.exit_code == 0 and "2 Inspect logs" in result.output
    assert len(list_eval_logs(str(tmp_path / "logs"))) == 2
