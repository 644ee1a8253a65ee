"""Fixed, deterministic demo data. The demo stack config references these ids; never change them."""

from __future__ import annotations

from dataclasses import replace

from .definitions import SCOPE_BOT_IMPORT
from .export import SCOPE_ML_EXPORT
from .pipeline import SCOPE_ML_IMPORT, SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS
from .state import ANY_APP_KIND, APP_KIND_ADMIN, APP_KIND_BOT, SCOPE_TRAIN_ML, SandboxApp, SandboxBot
from .variables import SCOPE_EXPORT_VARIABLES, SCOPE_IMPORT_VARIABLES

#: What a bot-level app can be given (docs/kore-api.md §3.2, App Builder column).
BOT_LEVEL_SCOPES = frozenset(
    {SCOPE_TRAIN_ML, SCOPE_ML_IMPORT, SCOPE_ML_EXPORT, SCOPE_IMPORT_VARIABLES, SCOPE_EXPORT_VARIABLES}
)
#: What an Admin Console app can be given (§3.2, Admin Console column).
ADMIN_CONSOLE_SCOPES = frozenset(
    {SCOPE_TRAIN_ML, SCOPE_ML_IMPORT, SCOPE_ML_EXPORT, SCOPE_BOT_IMPORT, SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS}
)
#: The demo apps may do everything: import definitions, variables and utterances, train, export, publish.
PIPELINE_SCOPES = BOT_LEVEL_SCOPES | ADMIN_CONSOLE_SCOPES

#: Both kinds with one set of credentials (ASSUMPTION: it stands for a bot-level app and an Admin Console
#: app, so the demo needs one client id).
DEMO_APP = SandboxApp(
    name="demo",
    client_id="cs-3b1f6a52-8c0d-4e57-9a11-6f2d0c9e7b44",
    client_secret="sandbox-demo-secret-not-for-production",
    scopes=PIPELINE_SCOPES,
    kinds=ANY_APP_KIND,
)

#: Like DEMO_APP, with "Enforce JTI" on (used by tests).
DEMO_JTI_APP = replace(
    DEMO_APP,
    name="demo-jti",
    client_id="cs-9d4e2f17-6a3c-4b8d-8e25-0c1f7a6b5d92",
    client_secret="sandbox-jti-secret-not-for-production",
    enforce_jti=True,
)

#: A bot-level app only, with every bot-level scope: what App Settings > Dev Tools creates.
DEMO_BOT_APP = SandboxApp(
    name="demo-bot",
    client_id="cs-5e8a1c3d-7b24-4f90-a6d1-2c9e0b7f4a61",
    client_secret="sandbox-bot-app-secret-not-for-production",
    scopes=BOT_LEVEL_SCOPES,
    kinds=frozenset({APP_KIND_BOT}),
)

#: An Admin Console app only, with every Admin Console scope: what Admin Console > API Scopes creates.
DEMO_ADMIN_APP = SandboxApp(
    name="demo-admin",
    client_id="cs-a7f3d9e2-1c5b-4d08-b3e6-8f2a4c6d0e19",
    client_secret="sandbox-admin-app-secret-not-for-production",
    scopes=ADMIN_CONSOLE_SCOPES,
    kinds=frozenset({APP_KIND_ADMIN}),
)

DEMO_APPS: tuple[SandboxApp, ...] = (DEMO_APP, DEMO_JTI_APP, DEMO_BOT_APP, DEMO_ADMIN_APP)

# ASSUMPTION: every demo app reaches every demo bot. A bot-level app really belongs to one bot, and an
# Admin Console app reaches the bots of its account; `linked_apps` stands for both.
_LINKED = tuple(app.client_id for app in DEMO_APPS)

DEMO_BOTS: tuple[SandboxBot, ...] = (
    SandboxBot("travel-local", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01", ("en", "de"), "en", _LINKED),
    SandboxBot("travel-dev", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e02", ("en", "de"), "en", _LINKED),
    SandboxBot("travel-staging", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e03", ("en", "de"), "en", _LINKED),
    SandboxBot("travel-prod", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e04", ("en", "de"), "en", _LINKED),
)
