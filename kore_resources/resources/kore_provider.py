"""`Provider`: the Kore.ai a group of resources talks to (host and credentials), like `aws.Provider`.

The engine starts one plugin process per provider resource, and configures it with that resource's
inputs, not with the stack config. So a `Provider` per bot gives each bot a plugin of its own: every bot
trains at once (the dynamic-provider plugin serves only four calls at a time), while one bot's jobs stay
in one process, whose per-bot lock and rate budget are what keep that bot's trainings apart and within
Kore.ai's per-bot limits. Never put one bot's resources on two providers. (README, "A fleet of bots".)
"""

from __future__ import annotations

from typing import Any

import pulumi

from .. import settings
from ..api.validation import host_problem
from ..errors import ConfigurationError

#: The dynamic providers' plugin: an explicit provider of kore_resources' resources is one of its.
PLUGIN = "pulumi-python"


class Provider(pulumi.ProviderResource):
    """A Kore.ai platform and the apps that call it, for the resources given it as
    `pulumi.ResourceOptions(provider=...)`. Every argument is optional and defaults to what the default
    provider uses: the stack's `kore:` config (read when the program runs), then, in the plugin, the
    `KORE_*` environment variables.

    - `host`: the platform's base URL (`kore:host`); the resources on this provider default to it.
    - `client_id`, `client_secret`: the bot-level JWT app (`kore:clientId`, `kore:clientSecret`).
    - `admin_client_id`, `admin_client_secret`: the Admin Console app, for bot import and publish.

    Credentials are stored as secrets whatever the program passed: nothing of them is in the state in
    plain text. A credential left to the environment is read by the plugin when it runs, and is not
    recorded at all.
    """

    #: The platform's base URL the resources on this provider default to; None: theirs (`kore:host`).
    host: pulumi.Input[str] | None

    def __init__(
        self,
        resource_name: str,
        *,
        host: pulumi.Input[str] | None = None,
        client_id: pulumi.Input[str] | None = None,
        client_secret: pulumi.Input[str] | None = None,
        admin_client_id: pulumi.Input[str] | None = None,
        admin_client_secret: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if isinstance(host, str) and (problem := host_problem(host)):
            raise ConfigurationError(f"Provider {resource_name}: host: {problem}")
        config = pulumi.Config(settings.NAMESPACE)
        given = {
            settings.HOST: host,
            settings.CLIENT_ID: client_id,
            settings.CLIENT_SECRET: client_secret,
            settings.ADMIN_CLIENT_ID: admin_client_id,
            settings.ADMIN_CLIENT_SECRET: admin_client_secret,
        }
        props: dict[str, Any] = {}
        for setting, argument in given.items():
            value = argument
            if value is None:
                value = config.get_secret(setting.name) if setting.secret else config.get(setting.name)
            if value is None:
                continue  # left to the environment, in the plugin (settings.resolve_credentials)
            # The plugin configures itself from these, by the stack config's keys (`kore:clientId`).
            props[setting.key] = value if setting is settings.HOST else pulumi.Output.secret(value)
        super().__init__(PLUGIN, resource_name, props, opts)
        self.host = props.get(settings.HOST.key)
