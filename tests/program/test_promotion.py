"""The promotion guard (kore_resources/program/promotion.py, `kore:promoteFrom`): which upstream stack,
and what it refuses."""

from __future__ import annotations

import pytest

from kore_resources import PromotionRefusedError
from kore_resources.errors import ConfigurationError
from kore_resources.program.promotion import check_promotion, find_refusals, parse_promote_from

pytestmark = pytest.mark.unit


BOT = "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01"


HASH = "sha256:" + "ab" * 32


OTHER_HASH = "sha256:" + "cd" * 32


@pytest.mark.parametrize("value", [None, "", "  "])
def test_no_promote_from(value):
    assert parse_promote_from(value, project="kore-bots", stack="prod") is None


def test_promote_from_is_a_fully_qualified_other_stack():
    assert parse_promote_from(" acme/kore-bots/staging ", project="kore-bots", stack="prod") == (
        "acme/kore-bots/staging"
    )
    for bad in ("staging", "kore-bots/staging", "a/b/c/d", "acme/kore bots/staging"):
        with pytest.raises(ConfigurationError, match="organization/project/stack"):
            parse_promote_from(bad, project="kore-bots", stack="prod")
    with pytest.raises(ConfigurationError, match="names this stack itself"):
        parse_promote_from("acme/kore-bots/prod", project="kore-bots", stack="prod")


PLANNED = {"travel": {"en": HASH, "de": OTHER_HASH}}


def test_find_refusals():
    assert find_refusals(PLANNED, {"travel": {"en": HASH, "de": OTHER_HASH}, "other": {}}) == []
    [stale] = find_refusals(PLANNED, {"travel": {"en": OTHER_HASH, "de": OTHER_HASH}})
    assert (stale.bot, stale.language, stale.planned, stale.upstream) == ("travel", "en", HASH, OTHER_HASH)
    assert [r.upstream for r in find_refusals(PLANNED, {"travel": {"en": None}})] == [None, None]
    assert len(find_refusals(PLANNED, None)) == 2  # upstream exports no utterancesHashes
    assert len(find_refusals(PLANNED, ["not", "a", "mapping"])) == 2


def test_check_promotion_message_names_bot_language_both_hashes_and_the_fix():
    check_promotion(PLANNED, {"travel": dict(PLANNED["travel"])}, "acme/kore-bots/staging")
    with pytest.raises(PromotionRefusedError) as info:
        check_promotion(PLANNED, {"travel": {"en": OTHER_HASH}}, "acme/kore-bots/staging")
    message = str(info.value)
    upstream = "acme/kore-bots/staging"
    assert (
        f"bot travel (en): this stack would deploy {HASH}, but {upstream} last trained {OTHER_HASH}"
        in message
    )
    assert "bot travel (de)" in message and "has not trained this bot language successfully" in message
    assert "pulumi up -s staging" in message and "nothing was imported, trained or published" in message
