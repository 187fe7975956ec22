"""Plugins from outside superalign: an attacker, a critic and an oversight protocol registered by an out-of-tree
package (installed the way pip leaves one: a module and a dist-info folder with entry points) run from the CLI like
built-in ones, and a plugin's kind is tabled by the HTML report."""

import os
import subprocess
import sys

import pytest

PLUGIN = '''
from typing import Any

import numpy as np
from pydantic import PrivateAttr

from superalign.alc.attackers import Attacker
from superalign.alc.critics import Critic, Critique
from superalign.oversight.protocols import Evidence, Protocol


class FirstRows(Attacker):
    """Queries the unqueried transfer rows in their order."""

    def rank(self, context):
        return np.flatnonzero(context.available)


class SureWeak(Critic):
    """The weak supervisor's label, always sure of it."""

    _head: Any = PrivateAttr(None)

    def fit(self, supervision, weak_head, seed):
        self._head = weak_head
        return self

    def critique(self, queries, learner_probs):
        probs = self._head.predict_proba(queries.x_weak)
        return Critique(probs, np.ones(len(probs)), ["plugin critic"] * len(probs))


async def note(item, clients, settings, **options):
    reply = await clients["noter"].chat([{"role": "user", "content": item.question}], max_tokens=8)
    return Evidence(f"A note: {reply.text}")


NOTE = Protocol(note, ("noter", "judge"), help="a plugin's protocol: one note by the strong model")
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    (site / "toy_plugins.py").write_text(PLUGIN)
    info = site / "toy_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[superalign.attackers]\nfirst-rows = toy_plugins:FirstRows\n\n"
                                           "[superalign.critics]\nsure-weak = toy_plugins:SureWeak\n\n"
                                           "[superalign.protocols]\nnote = toy_plugins:NOTE\n")
    return site


def cli(*args, site, home):
    env = {**os.environ, "PYTHONPATH": str(site), "SUPERALIGN_HOME": str(home)}
    env.pop("SUPERALIGN_RUNS", None)
    return subprocess.run([sys.executable, "-m", "superalign.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_a_plugin_attacker_and_critic_run_the_loop_from_the_cli(site, tmp_path):
    done = cli("alc", "run", "--attacker", "first-rows", "--critic", "sure-weak", "--eval-attacker", "random",
               "--seeds", "1", "--rounds", "2", site=site, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "first-rows" in done.stdout and "sure-weak" in done.stdout
    unknown = cli("alc", "run", "--attacker", "first-row", "--seeds", "1", site=site, home=tmp_path)
    assert unknown.returncode == 2 and "did you mean 'first-rows'" in unknown.stderr


def test_a_plugin_protocol_runs_from_the_cli_with_the_roles_it_declares(site, tmp_path):
    done = cli("oversight", "run", "--protocol", "note", "--task", "facts", "--n", "3", "--judge", "mock",
               "--debater", "mock", site=site, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "note" in done.stdout
    from superalign.engine.store import RunStore

    (record,) = RunStore(tmp_path / "runs" / "runs.sqlite").records(kind="oversight")
    assert set(record["result"]["models"]) == {"noter", "judge"}
    report = cli("report", "--out", str(tmp_path / "report"), site=site, home=tmp_path)
    assert report.returncode == 0, report.stderr
