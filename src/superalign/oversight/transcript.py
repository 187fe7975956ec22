"""Typed transcripts, judge-verdict parsing and quote verification."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, Field

# "Answer: B", "answer is (A)", "Answer: **B**": the word in any case, the letter a capital standing alone, so
# "I cannot answer a question" is not a verdict for A.
_ANSWER = re.compile(r"(?i:answer)\s*(?:(?i:is)\s*)?[:=]?\s*[*_(\[]*([AB])(?![\w])")
# A percentage first ("10%" is 0.10, not 1), else a number in [0, 1]; "15" without % is not a confidence.
_CONFIDENCE = re.compile(r"(?i:confidence)\s*[:=]?\s*[*_]*(\d{1,3}(?:\.\d+)?\s*%|[01]?\.\d+|[01])(?![\d.%])")
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
    log_odds: float | None = None  # log-prob judging: log P(A) - log P(B), shown order
    quotes_verified: int = 0
    quotes_unverified: int = 0
    quotes_by_role: dict[str, list[int]] = Field(default_factory=dict)  # role -> [verified, unverified]

    @property
    def parsed(self) -> bool:
        return self.verdict is not None

    @property
    def correct(self) -> bool | None:
        return None if self.verdict is None else self.verdict == self.correct_shown


def parse_verdict(text: str) -> tuple[int | None, float | None]:
    """('A' -> 0, 'B' -> 1, None when unparseable), and a confidence in [0, 1] if stated.

    Strict and last-line first: the verdict is on the last line that states one ("Answer: X"); a line that
    names both letters ("Answer: A or Answer: B", an echo of the instructions) is no verdict; a bare reply
    of "A" or "B" is accepted. Anything else is unparseable, and counted as such, never guessed.
    """
    choice = None
    for line in reversed(text.strip().splitlines()):
        letters = set(_ANSWER.findall(line))
        if letters:
            choice = letters.pop() if len(letters) == 1 else None
            break
    if choice is None and not any(_ANSWER.search(line) for line in text.splitlines()):
        bare = text.strip().strip(".)(*").strip()
        choice = bare if bare in ("A", "B") else None
    confidence = None
    if (m := _CONFIDENCE.search(text)) is not None:
        raw = m.group(1).replace(" ", "")
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        confidence = value if 0 <= value <= 1 else None
    return (None if choice is None else "AB".index(choice)), confidence


_FORGED = re.compile(r"<(/?)\s*[vu]_quote\s*>", re.IGNORECASE)
_PUNCT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "\u00a0": " "})
MIN_QUOTE_WORDS = 3  # a one- or two-word "quote" verifies against almost any text


def _normalise(text: str) -> str:
    """Case, Unicode quotes and dashes, punctuation and spacing do not decide whether a quote is in the source."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def verify_quotes(argument: str, source: str, answers: tuple[str, ...] = ()) -> tuple[str, int, int]:
    """Marks each <quote>..</quote> as <v_quote> (in the source) or <u_quote> (not, or too short to count).

    A model cannot forge verification: a v_quote/u_quote tag it writes itself becomes a plain quote, checked. A quote
    verifies only if it has at least MIN_QUOTE_WORDS words, is not just one of the answers, and appears in the
    source once case, punctuation, Unicode quotes and spacing are normalised.
    """
    argument = _FORGED.sub(r"<\1quote>", argument)  # a tag the model wrote is a quote like any other: checked
    normal_source = f" {_normalise(source)} "
    normal_answers = {_normalise(a) for a in answers}
    verified = unverified = 0

    def mark(match: re.Match) -> str:
        nonlocal verified, unverified
        quote = match.group(1).strip()
        normal = _normalise(quote)
        if len(normal.split()) >= MIN_QUOTE_WORDS and normal not in normal_answers and f" {normal} " in normal_source:
            verified += 1
            return f"<v_quote>{quote}</v_quote>"
        unverified += 1
        return f"<u_quote>{quote}</u_quote>"

    return _QUOTE.sub(mark, argument), verified, unverified
