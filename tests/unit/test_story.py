"""One storm, one story: grouping incidents of linked entities downstream of the lifecycle."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting.event import AlertEvent
from alerting.memory_store import MemoryAlertStore
from alerting.story import Stories, Story, StoryRules, StoryState, group

T0 = 1714566840.0
NAMES = {"acme": ("Acme Stores", "partner"), "tesco": ("Tesco", "partner"),
         "wp": ("Work Programme", "policy"), "uc": ("Universal Credit", "policy")}
# acme and tesco deliver the Work Programme; Universal Credit stands alone
RULES = StoryRules.of({"acme": ("wp",), "tesco": ("wp",)}, NAMES, window=1800)


def ev(entity: str, kind: str, minute: float, severity: str = "warning", seq: int = 1,
       opened: float = 0, by: str | None = None) -> AlertEvent:
    name, entity_kind = NAMES[entity]
    return AlertEvent(f"{entity}-{opened:g}", seq, kind, entity, name, entity_kind, severity,
                      T0 + 60 * minute, 40, 8.0, 0.7, 0.3, 5.0, acknowledged_by=by)


def tell(*events: AlertEvent) -> list[Story]:
    state, out = StoryState(), []
    for e in events:
        state, story = group(state, e, RULES)
        out.append(story)
    return out


def test_a_partner_and_its_policy_escalating_together_are_one_story():
    acme, wp = tell(ev("acme", "opened", 0), ev("wp", "opened", 3, "critical"))
    assert acme.id == wp.id == "acme-0"
    assert wp.title() == "Acme Stores (partner) + Work Programme (policy)"
    assert wp.severity == "critical" and wp.is_group
    # the partner not storming is still named, as a watchlist link
    assert wp.linked == (("tesco", "Tesco", "partner"),)
    assert acme.linked == (("wp", "Work Programme", "policy"),) and not acme.is_group


def test_links_are_followed_through_members_and_unlinked_entities_stay_apart():
    *_, tesco, uc = tell(ev("acme", "opened", 0), ev("wp", "opened", 1),
                         ev("tesco", "opened", 2), ev("uc", "opened", 3))
    assert tesco.id == "acme-0" and [m.entity_id for m in tesco.members] == ["acme", "wp",
                                                                             "tesco"]
    assert uc.id == "uc-0" and len(uc.members) == 1


def test_a_story_gathers_linked_incidents_while_a_linked_member_still_storms():
    stories = tell(ev("acme", "opened", 0), ev("acme", "resolved", 40),
                   ev("wp", "opened", 40 + 29), ev("tesco", "opened", 40 + 31 + 29))
    assert stories[2].id == "acme-0"  # 29 min after the partner calmed: the same storm
    assert stories[3].id == "acme-0"  # the partner is long calm, but the policy storms on


def test_a_story_gathers_only_while_a_linked_member_is_open_or_lately_calm():
    stories = tell(ev("acme", "opened", 0), ev("acme", "resolved", 40),
                   ev("wp", "opened", 40 + 31))
    assert stories[2].id == "wp-0"  # 31 min after the partner calmed: a new storm


@pytest.mark.parametrize(("minute", "story"), [(59, "acme-0"), (61, "wp-0"), (-59, "acme-0"),
                                              (-61, "wp-0")])
def test_an_incident_left_open_without_news_stops_gathering_after_twice_the_window(
        minute, story):
    # a storming incident has an event at least every 15 min; one silent for an hour
    # was left open because its data stopped, and is no storm to join
    assert tell(ev("acme", "opened", 0), ev("wp", "opened", minute))[1].id == story


def test_acknowledgements_and_resolutions_update_members_but_never_regroup():
    stories = tell(ev("acme", "opened", 0), ev("wp", "opened", 1, "critical"),
                   ev("acme", "acknowledged", 2, seq=2, by="sam"),
                   ev("wp", "resolved", 40, "critical", seq=2))
    acked, done = stories[2], stories[3]
    assert acked.member("acme-0").acknowledged_by == "sam"
    assert acked.member("acme-0").last_at == T0  # an ack is not news about the storm
    assert done.id == "acme-0" and done.status == "open" and done.severity == "warning"
    assert done.member("acme-0").acknowledged_by == "sam"  # kept through later events


def test_a_late_event_of_a_story_that_left_the_state_is_told_in_its_recorded_story():
    state, first = group(StoryState(), ev("acme", "opened", 0), RULES)
    state, first = group(state, ev("acme", "resolved", 31, seq=2), RULES)
    state, _ = group(state, ev("uc", "opened", 200), RULES)  # time moves on: acme-0 is gone
    assert state.find("acme-0") is None
    _, late = group(state, ev("acme", "acknowledged", 201, seq=3, by="jo"), RULES, first)
    assert late.id == "acme-0" and late.member("acme-0").acknowledged_by == "jo"


def test_state_and_stories_round_trip_through_json():
    state = StoryState()
    for e in (ev("acme", "opened", 0), ev("wp", "opened", 1)):
        state, story = group(state, e, RULES)
    assert StoryState.from_dict(state.to_dict()) == state
    assert Story.from_dict(story.to_dict()) == story
    assert AlertEvent.from_json(ev("wp", "opened", 1).in_story(story).to_json()).story == story


entities = st.sampled_from(sorted(NAMES))


@st.composite
def histories(draw) -> list[AlertEvent]:
    """Alert events of several entities in arrival order, each entity's in lifecycle order."""
    out, minute, open_ = [], 0.0, {}
    opened: set[tuple[str, float]] = set()
    for _ in range(draw(st.integers(1, 40))):
        minute += draw(st.integers(0, 20))
        entity = draw(entities)
        current = open_.get(entity)
        if current is None:
            if (entity, minute) in opened:  # an incident id is its entity and opening minute:
                minute += 1                 # a reopening takes a later minute, as in the lifecycle
            opened.add((entity, minute))
            open_[entity] = [minute, 1]
            out.append(ev(entity, "opened", minute, opened=minute))
            continue
        current[1] += 1
        kind = draw(st.sampled_from(["escalated", "updated", "acknowledged", "resolved"]))
        out.append(ev(entity, kind, minute, "critical" if kind == "escalated" else "warning",
                      seq=current[1], opened=current[0], by="sam" if kind == "acknowledged"
                      else None))
        if kind == "resolved":
            del open_[entity]
    return out


@settings(max_examples=200, deadline=None)
@given(histories())
def test_every_incident_is_told_in_one_story_of_linked_entities(events):
    book = Stories(RULES)
    story_of: dict[str, str] = {}
    for e in events:
        story = book.tell(e).story
        # once told, an incident's story never changes
        assert story_of.setdefault(e.incident_id, story.id) == story.id
        assert story.member(e.incident_id) is not None
        # a story is a chain of links: every member after the first is linked to an earlier one
        for i, m in enumerate(story.members[1:], start=1):
            assert any(m.entity_id in RULES.linked(x.entity_id) for x in story.members[:i])
        assert story.id == story.members[0].incident_id


@settings(max_examples=100, deadline=None)
@given(histories())
def test_the_memory_store_tells_the_stories_replay_tells(events):
    store = MemoryAlertStore(stories=RULES)
    book = Stories(RULES)
    for e in events:
        store.publish(e)
    stored = [e.story for _, e in store.catch_up()]
    assert stored == [book.tell(e).story for e in events]
