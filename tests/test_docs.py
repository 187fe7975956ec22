"""The docs site: it builds with `mkdocs build --strict` (a broken link or a missing page fails), every results
table in it is a generated block with a stamp whose spec exists and validates, and the specs the docs name agree
with the commands they stand for."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from superalign.engine import load_spec
from superalign.errors import SuperalignError
from superalign.report.docs import BLOCK, STAMP, blocks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Pages whose tables were pasted by hand from earlier builds and are not generated yet, with what will generate
# them; known-limits.md must list each. This list only shrinks.
PENDING: dict[str, str] = {}  # none left
NUMBER_CELL = re.compile(r"^\s*[-+−]?\d")  # a results table has cells that are numbers


def _tables_outside_blocks(text: str) -> list[str]:
    """The table rows of a page that are not inside a generated block."""
    outside = BLOCK.sub("", text)
    return [line for line in outside.splitlines() if line.startswith("|") and not line.startswith("|---")]


def test_the_site_builds_strictly_with_the_report_from_the_store(tmp_path):
    import os

    runs = tmp_path / "runs"
    env = {**os.environ, "SUPERALIGN_RUNS": str(runs), "NO_MKDOCS_2_WARNING": "1"}
    empty = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "empty")],
                           cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert empty.returncode == 0, empty.stderr[-3000:]
    assert "pgr_of_means" in (tmp_path / "empty" / "api" / "index.html").read_text()  # docstrings reached
    assert "make results" in (tmp_path / "empty" / "superalign-report" / "index.html").read_text()
    ran = subprocess.run([sys.executable, "-m", "superalign.cli.main", "run", "--task", "digits", "--weak", "pca:4",
                          "--strong", "raw", "--seeds", "2"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert ran.returncode == 0, ran.stderr
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    report = tmp_path / "site" / "superalign-report"
    assert "pca:4" in (report / "index.html").read_text()
    assert (report / "figures" / "pgr_by_pair.png").stat().st_size > 2000  # figures generated at build time
    assert "superalign-report" in (tmp_path / "site" / "report" / "index.html").read_text()


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_results_table_is_generated_with_a_stamp(page):
    text = (DOCS / page).read_text()
    if page == "benchmarks.md":  # written whole by `make bench` (benchmarks/make_page.py): test_the_benchmarks_page...
        assert STAMP in text and "make bench" in text
        return
    if page in PENDING:
        assert page in (DOCS / "known-limits.md").read_text(), f"known-limits.md must say {page} is pending"
        return
    typed = [row for row in _tables_outside_blocks(text)
             if any(NUMBER_CELL.match(cell) for cell in row.strip("|").split("|"))]
    assert not typed, f"{page}: results rows typed by hand (make them a superalign:table block): {typed[:2]}"
    for spec, view, body in blocks(DOCS / page):
        kind, configs, _ = load_spec(ROOT / spec)  # the spec exists and validates
        assert configs
        assert view is None or view in kind.views, f"{page}: {spec}: no view {view}"
        if "|" in body:
            assert STAMP in body and "commit" in body, f"{page}: the table of {spec} has no stamp"
        else:
            assert "superalign docs tables --run" in body, f"{page}: the block of {spec} is empty; run `make results`"


def test_the_benchmarks_page_is_what_the_stored_benchmark_rows_make():
    """docs/benchmarks.md is rendered from benchmarks/results/ alone: no row typed, none left out, each stamped."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_page", ROOT / "benchmarks" / "make_page.py")
    make_page = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_page)
    page = make_page.render()
    assert page == (DOCS / "benchmarks.md").read_text(), "run `python benchmarks/make_page.py --render`"
    stored = [make_page.load(s) for s in make_page.CPU + make_page.LLM]
    rows = sum(len(r["rows"]) for r in stored if r)
    assert rows and page.count("\n| ") - 1 == rows  # every stored row on the page, and the header
    for result in filter(None, stored):
        assert result["commit"] and result["cpu"] and result["date"], result["script"]


def test_every_archived_table_regenerates_from_its_records(tmp_path):
    """Where the records behind a table are in results/, the table on the page is what they make (nothing typed,
    nothing edited after): each such page is regenerated from them alone, on an empty store, and compared."""
    import shutil

    from superalign.engine.store import RunStore
    from superalign.report.docs import archive_path, fill_page

    for page in sorted(DOCS.glob("*.md")):
        archived = [body for spec, _, body in blocks(page) if archive_path(ROOT, spec).exists()]
        if not archived:
            continue
        copy = tmp_path / page.name
        shutil.copy(page, copy)
        for body in archived:  # each such block emptied, so it cannot be kept as it was
            copy.write_text(copy.read_text().replace(body, "\n"))
        fill_page(copy, ROOT, store=RunStore(tmp_path / f"{page.stem}.sqlite"), write_archives=False)
        assert copy.read_text() == page.read_text(), f"{page.name}: a table differs from what its records make"


def test_the_default_spec_is_the_default_grid():
    from superalign.w2s.grid import DEFAULT_METHODS, DEFAULT_SEEDS, default_configs

    _, configs, _ = load_spec(ROOT / "examples" / "w2s" / "default.yaml")
    assert sorted(c.config_hash() for c in configs) == sorted(
        c.config_hash() for c in default_configs(DEFAULT_METHODS, DEFAULT_SEEDS))


def test_a_block_is_filled_from_the_store_and_stamped(runs_dir, tmp_path):
    from superalign.report.docs import fill_page

    (tmp_path / "spec.yaml").write_text("kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\nseeds: 2\n")
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n<!-- superalign:table spec=spec.yaml -->\nold\n<!-- superalign:end -->\n\nAfter.\n")
    (pending,) = fill_page(page, tmp_path)  # nothing in the store yet: says so and what makes it
    assert pending.tabled == 0 and "superalign docs tables --run" in page.read_text()
    (done,) = fill_page(page, tmp_path, run=True)
    text = page.read_text()
    assert done.computed == 2 and "| digits | pca:4 -> raw | naive |" in text and STAMP in text
    assert text.startswith("# A page") and text.endswith("After.\n") and "old" not in text
    (again,) = fill_page(page, tmp_path, run=True)  # from the store: nothing run twice
    assert again.computed == 0 and again.tabled == 2


def test_a_partial_block_tables_what_ran_and_names_what_did_not(runs_dir, tmp_path):
    from superalign.report.docs import fill_page

    (tmp_path / "one.yaml").write_text("kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\nseeds: 1\n")
    (tmp_path / "two.yaml").write_text("kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\nseeds: 2\n")
    page = tmp_path / "page.md"
    page.write_text("<!-- superalign:table spec=two.yaml -->\n<!-- superalign:end -->\n")
    fill_page(page, tmp_path, run=False)
    (tmp_path / "p1.md").write_text("<!-- superalign:table spec=one.yaml -->\n<!-- superalign:end -->\n")
    fill_page(tmp_path / "p1.md", tmp_path, run=True)  # seed 0 only
    (partial,) = fill_page(page, tmp_path)
    text = page.read_text()
    assert partial.tabled == 1 and partial.runs == 2
    assert "Partial: 1 of the 2 runs of this spec recorded" in text and "seed=1" in text and "seed=0" not in text.split("|")[0]
    assert "| digits | pca:4 -> raw | naive |" in text and STAMP in text
    (done,) = fill_page(page, tmp_path, run=True)
    assert done.computed == 1 and "Partial" not in page.read_text()


def test_a_table_is_never_replaced_by_one_with_fewer_runs(runs_dir, tmp_path):
    """A fresh machine's store is empty: writing the docs there keeps the tables another machine generated (here one
    whose records were not archived)."""
    from superalign.report.docs import archive_path, fill_page, tabled_runs

    (tmp_path / "two.yaml").write_text("kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\nseeds: 2\n")
    page = tmp_path / "page.md"
    page.write_text("<!-- superalign:table spec=two.yaml -->\n<!-- superalign:end -->\n")
    fill_page(page, tmp_path, run=True)
    generated = page.read_text()
    assert tabled_runs(generated) == 2
    archive_path(tmp_path, "two.yaml").unlink()

    other_machine = tmp_path / "empty-store.sqlite"
    from superalign.engine.store import RunStore

    (kept,) = fill_page(page, tmp_path, store=RunStore(other_machine))
    assert kept.kept == 2 and kept.tabled == 0 and page.read_text() == generated


def test_the_records_behind_a_table_are_archived_and_regenerate_it_on_an_empty_store(runs_dir, tmp_path):
    from superalign.engine.store import RunStore
    from superalign.report.docs import archive_path, fill_page, read_archive

    (tmp_path / "two.yaml").write_text("kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\nseeds: 2\n")
    page = tmp_path / "page.md"
    page.write_text("<!-- superalign:table spec=two.yaml -->\n<!-- superalign:end -->\n")
    fill_page(page, tmp_path, run=True)
    generated = page.read_text()
    archive = archive_path(tmp_path, "two.yaml")
    assert archive == tmp_path / "results" / "two.jsonl.gz" and len(read_archive(archive)) == 2

    page.write_text("<!-- superalign:table spec=two.yaml -->\n<!-- superalign:end -->\n")
    fresh = RunStore(tmp_path / "fresh.sqlite")
    (again,) = fill_page(page, tmp_path, run=True, store=fresh)  # another machine: nothing run, same table
    assert again.computed == 0 and again.tabled == 2 and page.read_text() == generated and fresh.count() == 2

    assert "s of computing" in generated  # the run time comes from the records, so it regenerates too
    import gzip

    archive.write_bytes(gzip.compress(b"{not json\n"))
    with pytest.raises(SuperalignError, match="two.jsonl.gz:1: not a JSON record"):
        fill_page(page, tmp_path, store=RunStore(tmp_path / "third.sqlite"))
    archive.write_text("plain text")
    with pytest.raises(SuperalignError, match="two.jsonl.gz: not a gzipped JSON-lines file"):
        fill_page(page, tmp_path, store=RunStore(tmp_path / "fourth.sqlite"))
