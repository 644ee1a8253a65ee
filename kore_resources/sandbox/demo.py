"""Fixed, deterministic demo data. The demo stack config references these ids; never change them."""

from __future__ import annotations

from .pipeline import SCOPE_ML_IMPORT, SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS
from .state import SCOPE_TRAIN_ML, SandboxApp, SandboxBot

#: The demo apps may do the whole pipeline: import utterances, train, publish.
PIPELINE_SCOPES = frozenset({SCOPE_TRAIN_ML, SCOPE_ML_IMPORT, SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS})

DEMO_APP = SandboxApp(
    name="demo",
    client_id="cs-3b1f6a52-8c0d-4e57-9a11-6f2d0c9e7b44",
    client_secret="sandbox-demo-secret-not-for-production",
    scopes=PIPELINE_SCOPES,
)

#: A bot-level app with "Enforce JTI" on (used by tests).
DEMO_JTI_APP = SandboxApp(
    name="demo-jti",
    client_id="cs-9d4e2f17-6a3c-4b8d-8e25-0c1f7a6b5d92",
    client_secret="sandbox-jti-secret-not-for-production",
    scopes=PIPELINE_SCOPES,
    enforce_jti=True,
)

DEMO_APPS: tuple[SandboxApp, ...] = (DEMO_APP, DEMO_JTI_APP)

_LINKED = (DEMO_APP.client_id, DEMO_JTI_APP.client_id)

DEMO_BOTS: tuple[SandboxBot, ...] = (
    SandboxBot("travel-local", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e01", ("en", "de"), "en", _LINKED),
    SandboxBot("travel-dev", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e02", ("en", "de"), "en", _LINKED),
    SandboxBot("travel-staging", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e03", ("en", "de"), "en", _LINKED),
    SandboxBot("travel-prod", "st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e04", ("en", "de"), "en", _LINKED),
)
