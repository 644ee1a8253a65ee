"""The floor for plugin-side costs: the smallest honest dynamic provider taking BotTraining's inputs.

`check` accepts the inputs as they are; `diff` compares the inputs with the recorded outputs. It imports
nothing but the Pulumi SDK the plugin has loaded anyway, so a plugin running it measures the dynamic
provider machinery alone (gRPC, property (de)serialization, provider cache, the SDK's per-call event loop).
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider

PROVIDER_KEY = "__provider"


class TrivialProvider(ResourceProvider):
    # Same choice as kore_resources' providers, so `__provider` travels the same way.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = any(olds.get(key) != value for key, value in news.items() if key != PROVIDER_KEY)
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props.get('bot_id')}/{props.get('language')}", dict(props))
