"""Oversight protocols as a kind: the ladder's spec runs through the engine (here with a scripted judge and
scripted debaters: plumbing; the real models run in examples/oversight/ladder.yaml), and a protocol registered
from outside runs like a built-in one."""

from pathlib import Path

import yaml

from superalign.engine import KINDS, expand, run_grid
from superalign.oversight.protocols import PROTOCOLS, Protocol

LADDER = Path(__file__).resolve().parents[2] / "examples" / "oversight" / "ladder.yaml"


def test_the_ladder_spec_runs_and_tables_every_row_paired_with_direct(runs_dir):
    spec = yaml.safe_load(LADDER.read_text())
    assert spec["kind"] == "oversight" and len(spec["runs"]) == 5
    spec.update(judge="mock", debater="scripted:fabricate", items="bbc-cloze?max_chars=900", n=4)
    kind, configs = expand(spec, where="ladder.yaml")
    result = run_grid(kind, configs)
    assert result.done == 5 and not result.failures
    table = KINDS.get("oversight").summarize(result.records)
    rows = {row[2]: row for row in table.rows}
    assert set(rows) == {"direct", "direct + article", "consultancy", "debate", "debate, quotes unchecked"}
    assert rows["direct"][6] == "-" and rows["debate"][6].endswith("vs direct")
    again = run_grid(kind, configs)  # from the store
    assert again.stored == 5 and again.done == 0


async def _echo(item, clients, settings, **options):
    from superalign.oversight.protocols import Evidence

    reply = await clients["echoer"].chat([{"role": "user", "content": item.question}], max_tokens=8)
    return Evidence(f"An echo: {reply.text}")


def test_a_protocol_from_outside_declares_its_roles_and_runs(runs_dir):
    if "echo" not in PROTOCOLS:
        PROTOCOLS.add("echo", Protocol(_echo, ("echoer", "judge"), help="a plugin's protocol"))
    kind, configs = expand({"kind": "oversight", "protocol": "echo", "judge": "mock", "debater": "mock", "n": 2})
    result = run_grid(kind, configs)
    assert result.done == 1, result.failures
    assert set(result.records[0]["result"]["models"]) == {"echoer", "judge"}
