"""BotVariables' rules, without sockets: what a declared set of variables changes against the recorded one,
by key."""

from __future__ import annotations

import pytest

from kore_resources.resources.bot_variables import DELETED_ON_BOT, VariableChanges, variable_problem
from plugin_harness import through_the_plugin

pytestmark = pytest.mark.unit


def test_variable_changes_name_keys_in_one_order_whatever_order_the_wire_gave():
    """Keys arrive through protobuf Structs (maps): the preview must say the same thing every time."""
    declared = {"zeta": {"value": "1"}, "alpha": {"value": "2"}, "mid": {"value": "3"}}
    recorded = {"mid": {"value": "old"}, "gone": {"value": "x"}, "also-gone": {"value": "y"}}
    changes = VariableChanges.between(recorded, declared)
    assert (changes.added, changes.changed, changes.removed) == (
        ("alpha", "zeta"),
        ("mid",),
        ("also-gone", "gone"),
    )
    reordered = VariableChanges.between(dict(reversed(recorded.items())), dict(reversed(declared.items())))
    assert reordered.describe() == changes.describe()


def test_a_variable_deleted_on_the_bot_is_a_mark_that_survives_the_plugin_and_is_imported_again():
    """A deletion is recorded as a mark beside the recorded fields, not as value None: the plugin drops
    None values, which left an entry without a value that the next refresh crashed on."""
    assert "value" not in through_the_plugin({"variables": {"url": {"value": None}}})["variables"]["url"]
    recorded = {
        "url": {"value": "https://a", "hint": "the API", DELETED_ON_BOT: True},
        "apiKey": {"value": "s3cret", "secured": True, DELETED_ON_BOT: True},
        "greeting": {"value": {"en": "Hello"}, "variable_type": "locale", DELETED_ON_BOT: True},
        "legacy": {"hint": "recorded by an earlier release as value None"},
        "kept": {"value": "1"},
        "dropped": {"value": "x", DELETED_ON_BOT: True},
    }
    assert through_the_plugin({"variables": recorded}) == {"variables": recorded}  # the mark survives
    declared = {
        "url": {"value": "https://a", "hint": "the API"},
        "apiKey": {"value": "s3cret", "secured": True},
        "greeting": {"value": {"en": "Hello"}, "variable_type": "locale"},
        "legacy": {"value": "v", "hint": "recorded by an earlier release as value None"},
        "kept": {"value": "1"},
    }
    changes = VariableChanges.between(recorded, declared)
    assert (changes.added, changes.changed, changes.removed) == ((), (), ())
    assert changes.deleted == ("apiKey", "greeting", "legacy", "url")
    assert changes.forgotten == ("dropped",)
    assert changes.to_import == changes.deleted  # imported again: the declared values
    assert changes.describe() == (
        "deleted on the bot: apiKey, greeting, legacy, url; "
        "removed from the program and already deleted on the bot, so forgotten: dropped"
    )
    # Once imported again, the recorded entries are the declared ones: nothing to do.
    assert VariableChanges.between(declared, declared).to_import == ()
    # The mark is the provider's, never an input.
    assert "unknown field(s) deleted_on_bot" in str(
        variable_problem("url", {"value": "https://a", DELETED_ON_BOT: True})
    )
