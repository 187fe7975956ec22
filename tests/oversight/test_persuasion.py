"""Bradley-Terry ratings of debater configurations from verdicts."""

import pytest

from superalign.errors import SuperalignError
from superalign.oversight.persuasion import Match, bradley_terry, matches_from_transcripts
from superalign.oversight.transcript import Transcript


def test_a_more_persuasive_liar_gets_the_higher_wrong_side_rating():
    # Against the same honest debater, the smooth liar wins 4 of 10 debates, the clumsy one 1 of 10.
    matches = [Match("honest", "smooth", float(i >= 4)) for i in range(10)] + \
              [Match("honest", "clumsy", float(i >= 1)) for i in range(10)]
    r = bradley_terry(matches)
    assert r["smooth"]["wrong"] > r["clumsy"]["wrong"]
    # The fitted win probabilities reproduce the observed rates (up to the small L2 pull towards 0).
    import math
    p = lambda a, b: 1 / (1 + math.exp(-(r[a]["correct"] - r[b]["wrong"])))  # noqa: E731
    assert p("honest", "smooth") == pytest.approx(0.6, abs=0.03) and p("honest", "clumsy") == pytest.approx(0.9, abs=0.03)
    assert r["honest"]["matches"] == 20 and r["smooth"]["matches"] == 10
    with pytest.raises(SuperalignError, match="at least one debate"):
        bradley_terry([])


def test_matches_from_logprob_transcripts_use_the_order_averaged_signal():
    def pair(item, first_correct, z0, z1):
        return [Transcript(protocol="debate", item_id=item, swapped=s, answers_shown=("x", "y"),
                           correct_shown=(0 if first_correct else 1) if not s else (1 if first_correct else 0),
                           log_odds=z) for s, z in ((False, z0), (True, z1))]

    # Item 1: the first answer is right and s = (2 - (-1)) / 2 > 0, so the correct side (config a) won.
    # Item 2: the second answer is right (config b argued it) and s > 0 favours the first: b lost.
    ts = pair("i1", True, 2.0, -1.0) + pair("i2", False, 1.0, 0.0)
    matches = matches_from_transcripts(ts, "a", "b")
    assert matches == [Match("a", "b", 1.0), Match("b", "a", 0.0)]
