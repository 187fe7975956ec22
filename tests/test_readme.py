"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(runs_dir):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks, "the README should show the Python API"
    namespace: dict = {}  # one namespace: later blocks may use what earlier ones made
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["features"].shape == (2225, 384)
    assert 0 < namespace["result"]["metrics"]["student"]["accuracy"] <= 1
    assert namespace["df"].__class__.__name__ == "DataFrame"
    assert sorted(set(namespace["df"]["method"])) == ["hard-naive", "naive"]  # run_experiment records nothing
    assert all(o.ok for o in namespace["outcomes"])
    if "alc" in namespace:  # the attacker-learner-critic example
        assert namespace["alc"]["strategies"]["loop"]["expert_labels"] == 12
    if "outcome" in namespace:  # the automated researcher and sandbox example
        assert namespace["outcome"]["experiments"] == 2 and namespace["outcome"]["held_out"]["runs"] == 1
        assert namespace["sandboxed"].events[0]["kind"] == "read-outside"
