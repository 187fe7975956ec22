import pytest

from superalign.errors import UnknownNameError
from superalign.registry import Registry


def test_unknown_name_suggests_close_matches():
    reg = Registry("thing")
    reg.add("bbc-news", 1)
    reg.add("breast-cancer", 2)
    with pytest.raises(UnknownNameError, match="did you mean 'bbc-news'"):
        reg.get("bbc-nwes")


def test_prefix_factory_and_duplicates():
    reg = Registry("thing")
    reg.register_prefix("x", lambda rest: rest.upper())
    assert reg.get("x:abc") == "ABC"
    reg.add("a", 1)
    with pytest.raises(ValueError):
        reg.add("a", 2)
    with pytest.raises(UnknownNameError, match="x:"):
        reg.get("y:abc")


def test_plugins_are_found_through_entry_points(tmp_path, monkeypatch):
    """A package outside superalign registers a method with an entry point in its own pyproject; it is found
    on the registry's first lookup, without superalign listing it anywhere."""
    (tmp_path / "my_w2s_plugin.py").write_text(
        "from superalign.w2s.method import Method\n"
        "class Echo(Method):\n"
        "    '''Trains on the weak labels, as naive does (a plugin example).'''\n")
    dist = tmp_path / "my_w2s_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-w2s-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[superalign.methods]\necho = my_w2s_plugin:Echo\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from superalign.registry import Registry

    methods = Registry("method", entry_points="superalign.methods")  # a fresh one: the global one has loaded already
    assert "echo" in methods
    assert methods.get("echo").__name__ == "Echo"
    assert "a plugin example" in methods.help("echo")


def test_a_method_registered_outside_the_package_runs_in_the_pipeline(monkeypatch):
    import numpy as np

    from superalign.w2s.heads import make_head
    from superalign.w2s.method import METHODS, Method
    from superalign.w2s.pipeline import ExperimentConfig, run_experiment

    class HardNaive(Method):
        """Naive on hardened weak labels."""

        def fit(self, transfer, val):
            self.head_ = make_head(self.context.head, self.context.n_classes, self.context.seed)
            self.head_.fit(transfer.features, transfer.weak_probs.argmax(1))
            return self

    monkeypatch.setitem(METHODS._entries, "hard-naive", HardNaive)
    result = run_experiment(ExperimentConfig(task="breast-cancer", weak="pca:1", strong="raw", method="hard-naive"))
    assert result["budget"] == "weak-labels" and 0.5 < result["metrics"]["student"]["accuracy"] <= 1
    assert np.isfinite(result["metrics"]["ceiling"]["accuracy"])


def test_the_public_api_resolves_lazily():
    """`import superalign` loads none of the heavy parts; every advertised name resolves on first use."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, superalign; print('torch' in sys.modules)"],
                         capture_output=True, text=True).stdout.strip()
    assert out == "False"
    import superalign

    for name in superalign.__all__:
        assert getattr(superalign, name) is not None, name
