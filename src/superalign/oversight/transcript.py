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
    first_speaker: int | None = None  # debate: the answer (original order) whose debater spoke first
    critic_answer: int | None = None  # proposer-critic: the answer (original order) the critic's verdict implies
    turns: list[Turn] = Field(default_factory=list)
    verdict: int | None = None  # shown order; None when unparseable
    confidence: float | None = None
    log_odds: float | None = None  # log-prob judging: log P(A) - log P(B), shown order
    quotes_verified: int = 0
    quotes_unverified: int = 0
    quotes_by_role: dict[str, list[int]] = Field(default_factory=dict)  # role -> [verified, unverified]
    source_claims_unquoted: int = 0  # "the passage states ..." outside a quote: claims the verifier could not check

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


_PUNCT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "\u00a0": " "})
MIN_QUOTE_WORDS = 3  # a one- or two-word "quote" verifies against almost any text
# Angle brackets NFKC leaves alone but a reader takes for < and > (single guillemets, math and CJK angles, ...).
_ANGLES = str.maketrans({c: "<" for c in "\u2039\u2329\u27e8\u3008\u02c2\u1438\u276e\u2264"} |
                        {c: ">" for c in "\u203a\u232a\u27e9\u3009\u02c3\u1433\u276f\u2265"})
# Letters of other scripts that look like the Latin letters of "v_quote"/"u_quote" (a skeleton, for tag names only).
_LOOKALIKE = str.maketrans({"\u043e": "o", "\u03bf": "o", "\u0435": "e", "\u0442": "t", "\u03c4": "t",
                            "\u0475": "v", "\u03bd": "v", "\u057d": "u", "\u03c5": "u", "\u051b": "q",
                            "\u0261": "g", "\u0443": "y", "\u0131": "i", "\u0456": "i"})
_TAG = re.compile(r"<([^<>]{0,64})>")
_NAME = re.compile(r"\s*(/?)\s*([^\s/>=]*)")  # a tag's slash and its name (attributes after it are ignored)
_SOURCE_CLAIM = re.compile(r"\b(?:the|this)\s+(?:source|text|passage|article|story|document)\s+(?:says|states|reads|"
                           r"writes|mentions|notes|reports|shows|tells|explains|confirms)\b|\baccording\s+to\s+the\s+"
                           r"(?:source|text|passage|article|story|document)\b|\bquot(?:e|es|ed|ing)\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    """Case, Unicode quotes and dashes, punctuation and spacing do not decide whether a quote is in the source."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def _visible(text: str) -> str:
    """What a reader sees: NFKC forms (fullwidth brackets become < >), invisible format characters (zero-width
    spaces and joiners, soft hyphens, direction marks) removed, and angle look-alikes read as < and >."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if unicodedata.category(c) != "Cf").translate(_ANGLES)


def _quote_tag(inner: str) -> str | None:
    """"open" or "close" when a tag is any spelling of a quote tag (quote, v_quote, u_quote; any case, spacing,
    attributes, look-alike letters, dashes or dots for the underscore), else None."""
    slash, name = _NAME.match(inner).groups()
    skeleton = re.sub(r"[^a-z]", "", name.lower().translate(_LOOKALIKE))
    if skeleton in ("quote", "vquote", "uquote"):
        return "close" if slash else "open"
    return None


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def verify_quotes(argument: str, source: str, answers: tuple[str, ...] = ()) -> tuple[str, int, int]:
    """Marks each quote of a model's argument as <v_quote> (in the source) or <u_quote> (not, or too short to
    count), and returns the argument as the judge will read it with the two counts.

    Only the verifier writes tags. Every tag the model wrote is either a quote tag, in any spelling (attributes,
    case, whitespace, Unicode look-alikes, zero-width characters, a forged v_quote or u_quote), and checked like
    `<quote>`, or escaped (`&lt;...&gt;`) so the judge cannot take it for markup. Nested quote tags are flattened
    into the outermost quote; an unclosed quote runs to the end of the argument and counts as unverified; a stray
    closing tag is dropped. A quote verifies only if it has at least MIN_QUOTE_WORDS words, is not just one of the
    answers, and appears in the source once case, punctuation, Unicode quotes and spacing are normalised.
    """
    text = _visible(argument)
    normal_source = f" {_normalise(source)} "
    normal_answers = {_normalise(a) for a in answers}
    verified = unverified = 0
    out: list[str] = []
    depth, start, quoted = 0, 0, []

    def mark(quote: str, closed: bool) -> str:
        nonlocal verified, unverified
        quote = quote.strip()
        normal = _normalise(quote)
        if (closed and len(normal.split()) >= MIN_QUOTE_WORDS and normal not in normal_answers
                and f" {normal} " in normal_source):
            verified += 1
            return f"<v_quote>{_escape(quote)}</v_quote>"
        unverified += 1
        return f"<u_quote>{_escape(quote)}</u_quote>"

    for match in _TAG.finditer(text):
        between = text[start:match.start()]
        start = match.end()
        kind = _quote_tag(match.group(1))
        if kind is None:  # not a quote tag: text, escaped (inside a quote it is checked as text)
            (quoted if depth else out).append((between if depth else _escape(between)) + _escape(match.group(0)))
            continue
        (quoted if depth else out).append(between if depth else _escape(between))
        if kind == "open":
            depth += 1
        elif depth:  # a closing tag: the outermost one ends the quote
            depth -= 1
            if depth == 0:
                out.append(mark("".join(quoted), closed=True))
                quoted = []
    rest = text[start:]
    if depth:  # unclosed: the rest is a quote that never ended, and is not evidence
        out.append(mark("".join(quoted) + rest, closed=False))
    else:
        out.append(_escape(rest))
    return "".join(out), verified, unverified


def source_claims_outside_quotes(marked: str) -> int:
    """How many times an argument, as verified, says what the source says (\"the passage states\", \"according to
    the text\", \"as quoted\") outside a quote: claims about the source the verifier could not check."""
    outside = re.sub(r"<([vu])_quote>.*?</\1_quote>", " ", marked, flags=re.DOTALL)
    return len(_SOURCE_CLAIM.findall(outside))
