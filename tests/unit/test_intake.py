"""Intake: count in = accepted + rejected, one observation per (mention, entity), and
event-time progress per input partition."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.intake import Intake
from models.observation import Observation
from models.privacy import Pseudonymiser
from models.progress import Progress
from models.watchlist import parse_watchlist

WATCHLIST = parse_watchlist("""
entities:
  - {id: wp, name: Work Programme, kind: policy, terms: [workfare]}
  - {id: acme, name: Acme, kind: partner, terms: [acme], handles: ["@acmestores"],
     linked: [wp]}
""")


def intake() -> Intake:
    return Intake(WATCHLIST, score_many=lambda texts: [len(t) / 1000 for t in texts],
                  pseudonymiser=Pseudonymiser(b"key", reach_threshold=1000))


def line(i: int, ts: float, text: str, followers: int = 10, author: str = "@jo") -> bytes:
    return json.dumps({"id": str(i), "ts": ts, "platform": "x", "author": author,
                       "text": text, "author_followers": followers}).encode()


def test_a_post_naming_two_entities_becomes_two_observations_that_know_each_other():
    result = intake().accept_many([line(1, 1.7e9, "acme and workfare")], now=1.7e9)
    obs = result.observations
    assert [(o.entity_id, o.others) for o in obs] == [("wp", ("acme",)), ("acme", ("wp",))]
    assert obs[0].negativity == len("acme and workfare") / 1000


def test_ordinary_authors_and_handles_in_text_are_pseudonymised_public_figures_are_not():
    result = intake().accept_many([
        line(1, 1.7e9, "@neighbour says boycott @acmestores", followers=10, author="@jo"),
        line(2, 1.7e9, "acme again", followers=50_000, author="@famous_mp"),
    ], now=1.7e9)
    first, second = result.observations
    assert first.author.startswith("anon:") and "@jo" not in first.author
    assert "@neighbour" not in first.text and "@acmestores" in first.text
    assert second.author == "@famous_mp"


def test_a_link_to_a_post_is_kept_only_for_an_author_shown_by_name():
    def with_url(i: int, followers: int, author: str) -> bytes:
        data = json.loads(line(i, 1.7e9, "boycott acme", followers, author))
        return json.dumps({**data, "url": f"https://social.example/{author}/{i}"}).encode()

    result = intake().accept_many([with_url(1, 10, "@jo"), with_url(2, 5000, "@bignews")],
                                  now=1.7e9)
    assert [(o.author.startswith("anon:"), o.url) for o in result.observations] == [
        (True, None), (False, "https://social.example/@bignews/2")]


T0 = 1_700_000_000.0 - 1_700_000_000 % 60


def progress(result) -> list[tuple[str, int, float, bool]]:
    return [(i.entity_id, i.partition, i.mark, i.idle) for i in result.items
            if isinstance(i, Progress)]


def test_a_batch_that_moves_a_partition_to_a_new_minute_ends_with_progress_per_entity():
    it = intake()
    first = it.accept_many([line(1, T0 + 5, "acme"), line(2, T0 + 65, "workfare")], now=T0)
    kinds = [(type(i).__name__, i.entity_id) for i in first.items]
    assert kinds == [("Observation", "acme"), ("Observation", "wp"), ("Progress", "wp"),
                     ("Progress", "acme")]
    assert progress(first) == [("wp", 0, T0 + 60, False), ("acme", 0, T0 + 60, False)]
    same_minute = it.accept_many([line(3, T0 + 70, "acme")], now=T0)
    assert progress(same_minute) == []


def test_progress_is_per_input_partition_and_trails_by_the_lateness_bound():
    it = Intake(WATCHLIST, score_many=lambda texts: [0.5] * len(texts),
                pseudonymiser=Pseudonymiser(b"k"), lateness=10)
    result = it.accept_many([line(1, T0 + 65, "acme"), line(2, T0 + 125, "acme"),
                             line(3, T0 + 135, "acme")], now=T0, partitions=[0, 3, 3], of=6)
    marks = {(p, m) for _, p, m, _ in progress(result)}
    # Partition 0's newest is T0+65, less 10 s: still in minute T0; partition 3 passed T0+120.
    assert marks == {(0, T0), (3, T0 + 120)}
    assert all(i.partitions == 6 for i in result.items if isinstance(i, Progress))


def test_an_idle_partition_is_reported_and_wakes_on_its_next_mention():
    it = intake()
    assert [(p.partition, p.mark, p.idle) for p in it.idle(4, of=6)] == [
        (4, -math.inf, True)] * 2  # never heard from: no mark yet
    woke = it.accept_many([line(1, T0 + 1, "acme")], now=T0, partitions=[4], of=6)
    assert progress(woke) == [("wp", 4, T0, False), ("acme", 4, T0, False)]


def test_a_new_watchlist_keeps_the_partition_marks():
    it = intake()
    it.accept_many([line(1, T0 + 65, "acme")], now=T0)
    again = it.with_watchlist(WATCHLIST).accept_many([line(2, T0 + 70, "acme")], now=T0)
    assert progress(again) == []  # the mark did not start over


def test_untagged_mentions_are_accepted_and_counted_but_not_observed():
    result = intake().accept_many([line(1, 1.7e9, "nothing watched here")], now=1.7e9)
    assert (result.accepted, result.untagged, result.observations) == (1, 1, [])


@given(st.lists(st.one_of(st.binary(max_size=40), st.builds(
    line, st.integers(0, 99), st.floats(1.6e9, 1.7e9), st.sampled_from(
        ["acme", "workfare acme", "none", ""]))), max_size=30))
def test_every_message_is_accepted_or_rejected_never_lost(raws):
    result = intake().accept_many(raws, now=1.7e9)
    assert result.accepted + len(result.rejected) == len(raws)
    assert len(result.origins) == len(result.items)
    for item, origin in zip(result.items, result.origins, strict=True):
        assert (origin == -1) == isinstance(item, Progress)
        if origin >= 0:
            assert item.mention_id == str(json.loads(raws[origin])["id"])
    assert all(isinstance(i, Observation | Progress) for i in result.items)


def test_each_mention_is_scored_in_its_declared_language_and_unreadable_ones_get_none():
    from models.negativity import NegativityScorer
    scorer = NegativityScorer.default()
    it = Intake(WATCHLIST, None, Pseudonymiser(b"key"), assess_many=scorer.assess_many)
    raws = [json.dumps({"id": str(i), "ts": 1.7e9, "platform": "x", "author": "@jo",
                        "text": text, **({"lang": lang} if lang else {})}).encode()
            for i, (text, lang) in enumerate([
                ("workfare yn warth", "cy"), ("workfare is a disgrace", "en"),
                ("workfare is a disgrace", None), ("workfare yn warth", "cy")])]
    obs = it.accept_many(raws, now=1.7e9).observations
    assert [(o.negativity is None, o.lang) for o in obs] == [
        (True, "cy"), (False, "en"), (False, "en"), (True, "cy")]
    # The same post scores the same in any batch, to the last bit or so (BLAS sums a
    # batch's dense features in an order that depends on its size).
    alone = scorer.score_one("workfare is a disgrace")
    assert obs[1].negativity == obs[2].negativity == pytest.approx(alone, rel=0, abs=1e-12)
    assert Observation.from_dict(obs[0].to_dict()) == obs[0]
