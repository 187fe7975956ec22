"""Tasks whose labels are computed, not annotated: arithmetic claims that are true or false.

`arithmetic-claims`: "Claim: 47 * 36 = 1692. Is the claim true?" for two-digit operands and +, - or *.
Half the claims are true; a false claim states a near miss of the right result (off by 1-9, by 10, or
with two digits swapped), so the wrong number looks as plausible as the right one and only a model that
can do the arithmetic tells them apart. Generated deterministically (seed 0); every label is computed.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from superalign.data.registry import TASKS
from superalign.data.task import Task

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def _near_miss(value: int, rng: np.random.Generator) -> int:
    kind = rng.integers(0, 3)
    if kind == 0:  # off by a little
        return value + int(rng.choice([-1, 1])) * int(rng.integers(1, 10))
    if kind == 1:  # off by ten
        return value + int(rng.choice([-10, 10]))
    digits = list(str(abs(value)))
    if len(digits) >= 2:  # two adjacent digits swapped (when that changes the number)
        i = int(rng.integers(0, len(digits) - 1))
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
        swapped = int("".join(digits)) * (1 if value >= 0 else -1)
        if swapped != value and digits[0] != "0":
            return swapped
    return value + 1


def arithmetic_claims(n: int = 2000, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """`n` claims and their truth (1 = true), half true, operators balanced."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        op = list(_OPS)[i % len(_OPS)]
        a, b = (int(v) for v in rng.integers(10, 100, size=2))
        value = _OPS[op](a, b)
        true = i % 2 == 0
        stated = value if true else _near_miss(value, rng)
        texts.append(f"Claim: {a} {op} {b} = {stated}. Is the claim true?")
        labels.append(int(stated == value))
    order = rng.permutation(n)
    return [texts[i] for i in order], np.asarray(labels)[order]


@TASKS.register("arithmetic-claims", help="two-digit +, -, * claims with computed true/false labels (2,000)")
def arithmetic_claims_task() -> Task:
    texts, labels = arithmetic_claims()
    return Task("arithmetic-claims", texts, labels, ["false", "true"], "text",
                "Arithmetic claims on two-digit numbers, half true; false ones are near misses (computed labels)")


ANSWER_FORMAT = " Answer yes or no."


@TASKS.register("arithmetic-claims-1k", help="the first 1,000 arithmetic claims, asking for yes or no (LM ladder on a CPU)")
def arithmetic_claims_1k_task() -> Task:
    # Its own task, not a subset of the 2,000: features are computed for a task's whole data, so a 1,000-claim
    # task costs half the featurizing (the 1.5B model's is what takes time on a CPU). The answer format is the
    # one the README's layer sweep measured (benchmarks/ladder_probe.py --first --suffix " Answer yes or no.").
    texts, labels = arithmetic_claims()
    return Task("arithmetic-claims-1k", [t + ANSWER_FORMAT for t in texts[:1000]], labels[:1000], ["false", "true"],
                "text", "The first 1,000 arithmetic claims, asking for yes or no (computed labels)")


_CLAIM = re.compile(r"(\d+)\s*(\+|-|\*|x|×|plus|minus|times|multiplied by)\s*(\d+)\s*"
                    r"(?:does not equal|doesn't equal|is not equal to|isn't equal to|is not|isn't|≠|=|equals?|is equal to|is|"
                    r"makes|gives|comes to|results in)\s*(-?\d+)", re.IGNORECASE)
_WORD_OPS = {"plus": "+", "minus": "-", "times": "*", "multiplied by": "*", "x": "*", "×": "*"}
_NEGATION = re.compile(r"\bnot\b|n't\b|\bnever\b|\bfalse that\b|≠", re.IGNORECASE)


def arithmetic_label(text: str) -> int | None:
    """The computed label of an arithmetic claim in any wording ("47 times 36 is 1692", negated or not):
    1 if what it asserts is true. None when the text does not state exactly one claim `a op b = c` (three
    numbers in all), so the label cannot be computed."""
    matches = _CLAIM.findall(text)
    if len(matches) != 1 or len(re.findall(r"\d+", text)) != 3:
        return None
    a, op, b, stated = matches[0]
    value = _OPS[_WORD_OPS.get(op.lower(), op)](int(a), int(b))
    truth = int(value == int(stated))
    return 1 - truth if _NEGATION.search(text) else truth


def computed_labeller(task_name: str) -> Callable[[str], int | None] | None:
    """The function that computes a label from an input's text, for tasks whose labels are computed."""
    return arithmetic_label if task_name.split("~")[0].startswith("arithmetic-claims") else None
