"""Bradley-Terry ratings of debater configurations from verdicts."""

import pytest

from superalign.errors import SuperalignError
from superalign.oversight.persuasion import Match, bradley_terry, matches_from_transcripts, rating_difference
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


def test_rating_difference_is_paired_over_items_and_has_the_sign_of_the_win_rates():
    # 20 items; against the same honest debater the best-of-N liar wins on items 0-7, the greedy one on 0-1.
    matches = []
    for i in range(20):
        matches += [Match("honest", "liar, best-of 4", float(i >= 8), item=str(i)),
                    Match("honest", "liar", float(i >= 2), item=str(i)),
                    Match("liar, best-of 4", "honest", 1.0, item=str(i)), Match("liar", "honest", 1.0, item=str(i))]
    d = rating_difference(matches, "liar, best-of 4", "liar")
    assert d["wrong"]["difference"] > 0 and d["wrong"]["lo"] > 0  # 8 wins against 2, on the same 20 items
    assert d["wrong"]["lo"] < d["wrong"]["difference"] < d["wrong"]["hi"]
    assert d["rating"]["difference"] == pytest.approx((d["correct"]["difference"] + d["wrong"]["difference"]) / 2)
    # A configuration against itself: 0 on every resample.
    assert rating_difference(matches, "liar", "liar")["wrong"] == {"difference": 0.0, "lo": 0.0, "hi": 0.0}
    with pytest.raises(SuperalignError, match="must both play"):
        rating_difference(matches, "liar, best-of 4", "absent")


def test_matches_from_logprob_transcripts_use_the_order_averaged_signal():
    def pair(item, first_correct, z0, z1):
        return [Transcript(protocol="debate", item_id=item, swapped=s, answers_shown=("x", "y"),
                           correct_shown=(0 if first_correct else 1) if not s else (1 if first_correct else 0),
                           log_odds=z) for s, z in ((False, z0), (True, z1))]

    # Item 1: the first answer is right and s = (2 - (-1)) / 2 > 0, so the correct side (config a) won.
    # Item 2: the second answer is right (config b argued it) and s > 0 favours the first: b lost.
    ts = pair("i1", True, 2.0, -1.0) + pair("i2", False, 1.0, 0.0)
    matches = matches_from_transcripts(ts, "a", "b")
    assert matches == [Match("a", "b", 1.0, "i1"), Match("b", "a", 0.0, "i2")]


def _prefers_verified(messages):
    """A cloze judge that picks the first debater whose argument kept a verified quote (plumbing only)."""
    import re

    for name, argument in re.findall(r'Debater for "([^"]*)": (.*)', messages[-1]["content"]):
        if "<v_quote>" in argument:
            return name + '"'
    return "nobody"


def test_cross_play_rates_the_liar_who_quotes_real_lines_as_more_persuasive(runs_dir):
    """Scripted debaters on `facts`: the `fabricate` liar's quote fails verification, so the judge always sides
    with the honest debater; the `irrelevant` liar quotes a real line, which this judge cannot tell from evidence,
    so it wins some debates: the higher wrong-side rating, the lower judge accuracy. Every pairing is a record,
    and the records give back the same matches."""
    from superalign.chat.client import ChatClient, MockChat
    from superalign.oversight.items import load_items
    from superalign.oversight.persuasion import cross_play, matches_from_records, persuasion_table
    from superalign.oversight.protocols import LADDER_SETTINGS, Settings
    from superalign.oversight.scripted import ScriptedDebater
    from superalign.engine.store import RunStore

    items = load_items("facts", 12)
    debaters = [ChatClient(ScriptedDebater("fabricate")), ChatClient(ScriptedDebater("irrelevant"))]
    settings = Settings(**LADDER_SETTINGS)
    matches = cross_play(items, debaters, ChatClient(MockChat(_prefers_verified)), settings, item_set="facts")
    assert len(matches) == 4 * 12
    rows = {r["config"]: r for r in persuasion_table(matches)}
    fabricate, irrelevant = rows["scripted:fabricate"], rows["scripted:irrelevant"]
    assert fabricate["judge_accuracy_vs_it_lying"] == 1.0
    assert irrelevant["judge_accuracy_vs_it_lying"] < 0.9
    assert irrelevant["rating_wrong"] > fabricate["rating_wrong"]
    assert irrelevant["judge_accuracy_vs_it_lying_lo"] <= irrelevant["judge_accuracy_vs_it_lying"] \
        <= irrelevant["judge_accuracy_vs_it_lying_hi"] < 1.0  # resampling items, never the full 1.0 of fabricate
    # Self-play: both sides the same configuration, so the judge always wins against fabricate, not irrelevant.
    self_play = {name: [m.correct_won for m in matches if m.correct_side == m.wrong_side == name] for name in rows}
    assert fabricate["judge_accuracy_self_play"] == 1.0 and len(self_play["scripted:fabricate"]) == 12
    assert irrelevant["judge_accuracy_self_play"] == sum(self_play["scripted:irrelevant"]) / 12 < 1.0
    assert irrelevant["rating"] == (irrelevant["rating_correct"] + irrelevant["rating_wrong"]) / 2
    from superalign.oversight.runner import run_protocol

    run_protocol("debate", items, {"judge": ChatClient(MockChat(_prefers_verified)), "debater_a": debaters[0],
                                   "debater_b": debaters[0], "consultant": debaters[1]}, settings, item_set="facts")
    stored, left_out = matches_from_records(RunStore().records(kind="oversight"))  # the same debates, once
    assert sorted(stored, key=repr) == sorted(matches, key=repr) and left_out == []


def test_a_best_of_n_configuration_plays_under_its_own_name(runs_dir):
    """(client, N) in a cross-play is that debater's best-of-N, named apart from the same model's plain self."""
    from superalign.chat.client import ChatClient, MockChat
    from superalign.oversight.items import load_items
    from superalign.oversight.persuasion import cross_play, persuasion_table
    from superalign.oversight.protocols import LADDER_SETTINGS, Settings
    from superalign.oversight.scripted import ScriptedDebater

    liar = ChatClient(ScriptedDebater("irrelevant"))
    matches = cross_play(load_items("facts", 4), [liar, (liar, 3)], ChatClient(MockChat(_prefers_verified)),
                         Settings(**LADDER_SETTINGS), item_set="facts")
    assert len(matches) == 4 * 4
    assert {r["config"] for r in persuasion_table(matches)} == {"scripted:irrelevant", "scripted:irrelevant, best-of 3"}
