"""Typed transcripts, judge-verdict parsing and quote verification."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

_ANSWER = re.compile(r"answer\s*(?:is)?\s*[:=]?\s*\(?\b([AB])\b\)?", re.IGNORECASE)
_CONFIDENCE = re.compile(r"confidence\s*[:=]?\s*([01](?:\.\d+)?|\d{1,3}\s*%)", re.IGNORECASE)
_QUOTE = re.compile(r"<quote>(.*?)</quote>", re.DOTALL)


class Turn(BaseModel):
    role: str  # judge, debater_a, debater_b, consultant, critic, answerer, decomposer
    round: int = 0
    content: str


class Transcript(BaseModel):
    protocol: str
    item_id: str
    swapped: bool  # whether the answers were shown in swapped order (position-bias control)
    answers_shown: tuple[str, str]
    correct_shown: int  # index of the correct answer in the order shown
    assigned: int | None = None  # the answer a consultant was assigned to (shown order)
    turns: list[Turn] = Field(default_factory=list)
    verdict: int | None = None  # shown order; None when unparseable
    confidence: float | None = None
    quotes_verified: int = 0
    quotes_unverified: int = 0

    @property
    def parsed(self) -> bool:
        return self.verdict is not None

    @property
    def correct(self) -> bool | None:
        return None if self.verdict is None else self.verdict == self.correct_shown


def parse_verdict(text: str) -> tuple[int | None, float | None]:
    """('A' -> 0, 'B' -> 1, None when unparseable), and a confidence in [0, 1] if stated.

    The last "Answer: X" wins (models often restate); a bare reply of "A" or "B" is accepted too.
    """
    found = _ANSWER.findall(text)
    choice = found[-1].upper() if found else None
    if choice is None:
        bare = text.strip().strip(".)(").upper()
        choice = bare if bare in ("A", "B") else None
    confidence = None
    if (m := _CONFIDENCE.search(text)) is not None:
        raw = m.group(1).replace(" ", "")
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        confidence = value if 0 <= value <= 1 else None
    return (None if choice is None else "AB".index(choice)), confidence


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def verify_quotes(argument: str, source: str) -> tuple[str, int, int]:
    """Marks each <quote>..</quote> as <v_quote> (found verbatim in the source) or <u_quote> (not found)."""
    normal_source = _normalise(source)
    verified = unverified = 0

    def mark(match: re.Match) -> str:
        nonlocal verified, unverified
        quote = match.group(1).strip()
        if quote and _normalise(quote) in normal_source:
            verified += 1
            return f"<v_quote>{quote}</v_quote>"
        unverified += 1
        return f"<u_quote>{quote}</u_quote>"

    return _QUOTE.sub(mark, argument), verified, unverified
