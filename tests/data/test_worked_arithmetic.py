"""prefs-arithmetic: problems and values are computed, pairs are right-against-wrong answers to one problem, and
the bundled file (written by Qwen2.5-Coder-0.5B) passes the same checks row by row."""

import numpy as np
import pytest

from superalign.chat.client import ChatBackend, ChatClient, ChatResponse
from superalign.data import worked_arithmetic as wa
from superalign.data.registry import load_task


def test_problems_are_deterministic_and_their_values_computed():
    first = wa.problems(40)
    assert first == wa.problems(40) and len({p.question for p in first}) == 40
    for p in first:
        expression = p.question.removeprefix("What is ").removesuffix("?")
        assert eval(expression) == p.value  # noqa: S307 (our own arithmetic strings)


@pytest.mark.parametrize("text, value", [("84 * 4 = 336; 336 + 19 = 355. Answer: 355", 355),
                                         ("Answer: 1,204", 1204), ("Answer: -7", -7),
                                         ("first Answer: 3, no wait. Answer: 4", 4), ("It is 12.", None)])
def test_final_answer_reads_the_last_answer_line(text, value):
    assert wa.final_answer(text) == value


class _Drawn(ChatBackend):
    """Draw `seed` of a problem: right on even draws of problems with an even value, else off by one; so some
    problems get a pair from draws 1-2, some need draws 3-4, and those with odd values never have a right one."""

    name = "drawn"

    def identity(self):
        return {"kind": "test", "name": self.name}

    async def generate(self, messages, max_tokens, temperature, seed=None):
        question = messages[-1]["content"]
        value = eval(question.removeprefix("What is ").removesuffix("?"))  # noqa: S307
        right = value % 2 == 0 and (seed or 0) % 2 == 0
        return ChatResponse(f"step. Answer: {value if right else value + 1}")


def test_make_pairs_pairs_a_right_and_a_wrong_draw_of_the_same_problem():
    client = ChatClient(_Drawn(), cache=None)
    rows = wa.make_pairs(20, client, chunk_size=16)
    assert len(rows) == 20
    for row in rows:
        assert wa.final_answer(row["chosen"]) == row["value"] != wa.final_answer(row["rejected"])
        assert row["draws"] == 2  # draw 1 wrong, draw 2 right: no third draw was needed
    assert len({row["prompt"] for row in rows}) == 20  # one pair per problem
    # chunks of 16 problems until 20 pairs: problems with even values took 2 draws, odd ones 4 draws and gave none
    done, pairs = 0, 0
    pool = wa.problems(400)
    while pairs < 20:
        pairs, done = pairs + sum(p.value % 2 == 0 for p in pool[done:done + 16]), done + 16
    assert client.usage.requests == sum(2 + 2 * (p.value % 2) for p in pool[:done])


def test_the_bundled_pairs_are_right_against_wrong_and_balanced():
    rows = wa.read_pairs()
    assert len(rows) >= 2000
    assert len({row["prompt"] for row in rows}) == len(rows)  # one pair per problem: no problem spans two splits
    values = {p.question: p.value for p in wa.problems(20 * 2000)}
    for row in rows:
        assert values[row["prompt"]] == row["value"]
        assert wa.final_answer(row["chosen"]) == row["value"] != wa.final_answer(row["rejected"])
        assert row["generator"] == "qwen-0.5b"
    task = load_task("prefs-arithmetic")
    assert len(task) == len(rows) and 0.45 < task.labels.mean() < 0.55
    first = task.pairs[0]
    assert (first.response_a if first.preferred == 0 else first.response_b) == rows[0]["chosen"]
    assert np.array_equal(load_task("prefs-arithmetic").labels, task.labels)
