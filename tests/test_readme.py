"""The README is a short front page whose links resolve; the Python examples of the docs run as written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The pages whose examples build on each other, in the order they run (one namespace).
EXAMPLE_PAGES = ["docs/python-api.md", "docs/alc.md", "docs/researcher.md"]
GENERATED = ("superalign-report/",)  # what mkdocs_hooks.py adds to the site at build time


def test_the_readme_is_a_front_page_whose_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links and all((ROOT / link).exists() for link in links), [l for l in links if not (ROOT / l).exists()]
    for page in (ROOT / "docs").glob("*.md"):  # pages link their images and each other by relative paths
        for link in re.findall(r"\]\(([^)#:]+)\)", page.read_text()):
            if link.startswith(GENERATED):  # made by the site's build (the strict build checks these)
                continue
            assert (page.parent / link).exists(), f"{page.name}: {link}"


def test_the_docs_python_examples_run(runs_dir):
    blocks = [b for page in EXAMPLE_PAGES for b in re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), re.DOTALL)]
    assert len(blocks) >= 3, "the docs should show the Python API"
    namespace: dict = {}  # one namespace: later blocks may use what earlier ones made
    for block in blocks:
        exec(compile(block, "docs", "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["features"].shape == (2225, 384)
    assert 0 < namespace["result"]["metrics"]["student"]["accuracy"] <= 1
    assert namespace["df"].__class__.__name__ == "DataFrame"
    assert sorted(set(namespace["df"]["method"])) == ["hard-naive", "naive"]  # run_experiment records nothing
    assert all(o.ok for o in namespace["outcomes"])
    assert namespace["alc"]["strategies"]["loop"]["expert_labels"] == 12  # the attacker-learner-critic example
    assert namespace["outcome"]["experiments"] == 2 and namespace["outcome"]["held_out"]["runs"] == 1
    assert namespace["sandboxed"].events[0]["kind"] == "read-outside"  # the researcher and sandbox example
