"""Signed links: only this key's, unaltered, unexpired tokens are believed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerting.errors import LinkError, LinkExpired, LinkForged
from alerting.links import LinkClaim, link_nonce, sign_link, verify_link

KEY = b"a-test-key-that-is-long-enough-0123456789"
CLAIM = LinkClaim("ack", "acme-stores-20240501T123400Z", 2_000_000_000.0, "n1", "duty-slack")
TOKEN = sign_link(KEY, CLAIM)
NOW = 1_900_000_000.0


def test_a_genuine_link_gives_back_its_claim():
    assert verify_link(KEY, TOKEN, NOW, "ack") == CLAIM


@given(st.integers(min_value=0, max_value=len(TOKEN) - 1),
       st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."))
def test_any_change_to_a_token_is_refused(position, char):
    altered = TOKEN[:position] + char + TOKEN[position + 1:]
    if altered == TOKEN:
        return
    with pytest.raises(LinkForged):
        verify_link(KEY, altered, NOW)


@given(st.text(max_size=300))
def test_any_text_is_refused_as_forged_never_a_crash(text):
    with pytest.raises(LinkForged):
        verify_link(KEY, text, NOW)


def test_another_keys_link_is_forged_and_an_expired_one_says_when():
    with pytest.raises(LinkForged, match="signature does not match"):
        verify_link(b"another-key-just-as-long-0123456789abc", TOKEN, NOW)
    with pytest.raises(LinkExpired, match="expired at 2033-05-18T03:33:20Z") as expired:
        verify_link(KEY, TOKEN, CLAIM.expires_at)
    assert expired.value.expired_at == CLAIM.expires_at


def test_a_link_for_one_purpose_does_not_work_for_another():
    feedback = sign_link(KEY, LinkClaim("feedback", CLAIM.incident_id, CLAIM.expires_at, "n2"))
    with pytest.raises(LinkForged, match="it is a feedback link"):
        verify_link(KEY, feedback, NOW, "ack")


def test_a_short_key_or_an_unknown_purpose_cannot_sign():
    with pytest.raises(ValueError, match="at least 32"):
        sign_link(b"short", CLAIM)
    with pytest.raises(ValueError, match="purpose 'delete'"):
        sign_link(KEY, LinkClaim("delete", "x", 1.0, "n"))


def test_nonces_are_stable_per_seed_and_differ_between_seeds():
    assert link_nonce(KEY, "a:1/duty") == link_nonce(KEY, "a:1/duty")
    assert link_nonce(KEY, "a:1/duty") != link_nonce(KEY, "a:1/duty/r1")
    assert isinstance(LinkError("x"), ValueError)
