"""`prefs-arithmetic`: preference pairs of worked arithmetic answers written by a real model, labelled by computation.

How the pairs are made (`superalign data make-prefs`, which wrote the bundled file):
- problems: "What is 84 * 4 + 19?" and three other two-step forms on one- and two-digit numbers, drawn
  deterministically (seed 0); each problem's value is computed;
- responses: Qwen2.5-Coder-0.5B-Instruct (the packaged GGUF, llama.cpp), shown one worked example and asked to
  write its steps on one line and end with "Answer: N"; plain temperature sampling at 1.0, draws 1 and 2 of each
  problem, then draws 3 and 4 where the first two were both right or both wrong;
- label: a response is *correct* when the number after its last "Answer:" equals the computed value. A pair is one
  correct and one incorrect response to the same problem (the first of each, in draw order), the correct one
  preferred; problems with no such pair are skipped. One pair per problem, so no problem spans two splits.
So "preferred" means exactly "its final answer is arithmetically right". The intermediate steps are the model's
own: a correct answer can follow a wrong step, and a wrong answer a right one. Both responses of a pair are in the
same style by the same model, so a reward model cannot separate them by who wrote them.

Generation is cached request by request (the chat request cache), so an interrupted run resumes where it stopped,
and the bundled file can be rebuilt exactly: `superalign data make-prefs --out FILE` (about an hour on 2 cores).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from superalign.data.registry import TASKS
from superalign.errors import SuperalignError
from superalign.io import atomic_path

BUNDLED = Path(__file__).parent / "bundled" / "arithmetic-prefs.jsonl.gz"
GENERATOR = "qwen-0.5b"
TEMPERATURE = 1.0
MAX_TOKENS = 40
SYSTEM = ("Solve the arithmetic problem. Write the intermediate steps on one line, then the final answer, "
          "exactly in the format of the example.")
EXAMPLE = ("What is 23 * 7 + 15?", "23 * 7 = 161; 161 + 15 = 176. Answer: 176")
_ANSWER = re.compile(r"Answer:\s*(-?[\d,]+)")


@dataclass(frozen=True)
class Problem:
    question: str
    value: int


def problems(n: int, seed: int = 0) -> list[Problem]:
    """`n` distinct two-step problems, the four forms in turn, their values computed (a problem drawn a second
    time is skipped: one problem, one pair, so that no problem can span two splits)."""
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    i = 0
    while len(out) < n:
        a, d = int(rng.integers(12, 100)), int(rng.integers(10, 100))
        b = int(rng.integers(3, 10))
        form = i % 4
        i += 1
        if form == 0:
            problem = Problem(f"What is {a} * {b} + {d}?", a * b + d)
        elif form == 1:
            problem = Problem(f"What is {a} * {b} - {d}?", a * b - d)
        elif form == 2:
            problem = Problem(f"What is ({a} + {d}) * {b}?", (a + d) * b)
        else:
            c = int(rng.integers(12, 100))
            problem = Problem(f"What is {a} + {c} - {d}?", a + c - d)
        if problem.question not in seen:
            seen.add(problem.question)
            out.append(problem)
    return out


def final_answer(response: str) -> int | None:
    """The number after the response's last "Answer:", or None when it gives none."""
    found = _ANSWER.findall(response)
    if not found:
        return None
    try:
        return int(found[-1].replace(",", ""))
    except ValueError:
        return None


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": EXAMPLE[0]},
            {"role": "assistant", "content": EXAMPLE[1]}, {"role": "user", "content": question}]


def pair_of(problem: Problem, responses: list[str], generator: str = GENERATOR) -> dict | None:
    """The row for a problem: its first correct and first incorrect response, or None when all agree."""
    right = [r for r in responses if final_answer(r) == problem.value]
    wrong = [r for r in responses if final_answer(r) != problem.value]
    if not right or not wrong:
        return None
    return {"prompt": problem.question, "chosen": right[0], "rejected": wrong[0], "value": problem.value,
            "rejected_answer": final_answer(wrong[0]), "generator": generator, "draws": len(responses)}


async def _draws(client, chunk: list[Problem], samples: range) -> list[list[str]]:
    requests = [client.chat(messages(p.question), max_tokens=MAX_TOKENS, temperature=TEMPERATURE, sample=s)
                for p in chunk for s in samples]
    texts = [r.text.strip() for r in await asyncio.gather(*requests)]
    k = len(samples)
    return [texts[i * k:(i + 1) * k] for i in range(len(chunk))]


def make_pairs(n_pairs: int, client, generator: str = GENERATOR, chunk_size: int = 64, seed: int = 0,
               progress: Callable[[int, int], None] = lambda pairs, problems: None) -> list[dict]:
    """Pairs until there are `n_pairs`, problems in order; each request cached by the client (resumable)."""
    rows: list[dict] = []
    pool = problems(20 * n_pairs, seed)
    done = 0
    while len(rows) < n_pairs:
        if done >= len(pool):
            raise SuperalignError(f"only {len(rows)} pairs from {len(pool)} problems; the generator is too "
                                  "often all right or all wrong for these problems")
        chunk = pool[done:done + chunk_size]
        first = asyncio.run(_draws(client, chunk, range(1, 3)))
        again = [i for i, p in enumerate(chunk) if pair_of(p, first[i]) is None]
        if again:
            more = asyncio.run(_draws(client, [chunk[i] for i in again], range(3, 5)))
            for i, extra in zip(again, more):
                first[i] = first[i] + extra
        for p, responses in zip(chunk, first):
            if (row := pair_of(p, responses, generator)) is not None and len(rows) < n_pairs:
                rows.append(row)
        done += len(chunk)
        progress(len(rows), done)
    return rows


def write_pairs(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, sort_keys=True) + "\n")


def read_pairs(path: Path = BUNDLED) -> list[dict]:
    if not path.exists():
        raise SuperalignError(f"{path}: no such file; rebuild it with `superalign data make-prefs --out {path}`")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@TASKS.register("prefs-arithmetic",
                help="worked arithmetic answers by Qwen-0.5B in pairs, the computed-correct one preferred (2,000)")
def arithmetic_preferences():
    from superalign.data.preferences import preference_task

    rows = read_pairs()
    return preference_task("prefs-arithmetic", rows, "Worked arithmetic answers by Qwen2.5-Coder-0.5B-Instruct, "
                           "paired right against wrong on the same problem; the label is computed")


def multiplies_first(question: str) -> bool:
    """Whether the problem's first step is a multiplication ("a * b + d", "a * b - d") rather than an addition
    ("(a + d) * b", "a + c - d"): two halves of the task, for studies that hold a kind of problem out."""
    return "*" in question and not question.startswith("What is (")


def _half(name: str, multiply_first: bool, what: str):
    def factory():
        from superalign.data.preferences import preference_task

        rows = [r for r in read_pairs() if multiplies_first(r["prompt"]) == multiply_first]
        return preference_task(name, rows, f"prefs-arithmetic, the problems whose first step is {what}")

    return factory


TASKS.add("prefs-arithmetic-mul-first", _half("prefs-arithmetic-mul-first", True, "a multiplication"),
          help="the half of prefs-arithmetic whose problems multiply first (a * b + d, a * b - d)")
TASKS.add("prefs-arithmetic-add-first", _half("prefs-arithmetic-add-first", False, "an addition"),
          help="the half of prefs-arithmetic whose problems add first ((a + d) * b, a + c - d)")
