"""kore-sandbox: a local emulator of the documented Kore.ai public API, like stripe-mock for Stripe.

    with Sandbox(training_seconds=0.2, queue_seconds=0.1) as sb:
        requests.post(f"{sb.url}/api/public/bot/{DEMO_BOTS[0].bot_id}/ml/train", headers={"auth": jwt})

or `kore-sandbox --port 8089` (`python -m kore_sandbox`) for a demo. One module per endpoint family
(`api.py`, `pipeline.py`, `definitions.py`, `variables.py`, `export.py` with `download.py`), the models on
injected clocks (`state.py`, `jobs.py`), the HTTP plumbing in `transport.py`, the test controls in
`admin.py` and `faults.py`. Standard library only; it never imports kore_resources. What it serves, its
knobs and its numbered ASSUMPTIONS (where Kore.ai's docs are silent): kore-sandbox/README.md. Where a real
tenant may answer otherwise, a reading (`readings.py`) plays another plausible answer:
`Sandbox(readings={"publish-words": "upper"})`, `set_reading`, `POST /_sandbox/readings`, `--reading`.
"""

from __future__ import annotations

from .api import ApiRequest, ApiResponse, SandboxApi
from .auth import ApiError
from .definitions import (
    SCOPE_BOT_IMPORT,
    BotFunctionFile,
    DefinitionControls,
    DefinitionImportRecord,
    DefinitionModel,
    ImportedDefinition,
)
from .demo import DEMO_ADMIN_APP, DEMO_APP, DEMO_APPS, DEMO_BOT_APP, DEMO_BOTS, DEMO_JTI_APP
from .export import (
    SCOPE_ML_EXPORT,
    DownloadRequest,
    ExportControls,
    ExportModel,
    ExportRecord,
    UtteranceStore,
)
from .faults import Fault
from .persistence import StateFileError
from .pipeline import (
    SCOPE_ML_IMPORT,
    SCOPE_PUBLISH,
    SCOPE_PUBLISH_STATUS,
    ImportRecord,
    PipelineControls,
    PipelineModel,
    PublishRecord,
    UploadedFile,
)
from .readings import DEFAULT_READINGS, READINGS, Choice, Reading, Readings, check_reading
from .server import Call, Sandbox, is_loopback_host
from .state import (
    ANY_APP_KIND,
    APP_KIND_ADMIN,
    APP_KIND_BOT,
    NLU_LANGUAGES,
    RATE_LIMIT_COMMUNITY_MSG,
    RATE_LIMIT_HOUR_MSG,
    RATE_LIMIT_LEGACY_MSG,
    RATE_LIMIT_MINUTE_MSG,
    SCOPE_TRAIN_ML,
    AppKind,
    FailureRule,
    RateLimit,
    RateLimiter,
    SandboxApp,
    SandboxBot,
    TrainingModel,
    TrainingRecord,
    is_language_code,
)
from .variables import SCOPE_EXPORT_VARIABLES, SCOPE_IMPORT_VARIABLES, VariablesModel

#: The distribution's version, released together with kore-resources (kore-sandbox/pyproject.toml).
__version__ = "0.3.0"

__all__ = [
    "ANY_APP_KIND",
    "APP_KIND_ADMIN",
    "APP_KIND_BOT",
    "DEFAULT_READINGS",
    "DEMO_ADMIN_APP",
    "DEMO_APP",
    "DEMO_APPS",
    "DEMO_BOTS",
    "DEMO_BOT_APP",
    "DEMO_JTI_APP",
    "NLU_LANGUAGES",
    "RATE_LIMIT_COMMUNITY_MSG",
    "RATE_LIMIT_HOUR_MSG",
    "RATE_LIMIT_LEGACY_MSG",
    "RATE_LIMIT_MINUTE_MSG",
    "READINGS",
    "SCOPE_BOT_IMPORT",
    "SCOPE_EXPORT_VARIABLES",
    "SCOPE_IMPORT_VARIABLES",
    "SCOPE_ML_EXPORT",
    "SCOPE_ML_IMPORT",
    "SCOPE_PUBLISH",
    "SCOPE_PUBLISH_STATUS",
    "SCOPE_TRAIN_ML",
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "AppKind",
    "BotFunctionFile",
    "Call",
    "Choice",
    "DefinitionControls",
    "DefinitionImportRecord",
    "DefinitionModel",
    "DownloadRequest",
    "ExportControls",
    "ExportModel",
    "ExportRecord",
    "FailureRule",
    "Fault",
    "ImportRecord",
    "ImportedDefinition",
    "PipelineControls",
    "PipelineModel",
    "PublishRecord",
    "RateLimit",
    "RateLimiter",
    "Reading",
    "Readings",
    "Sandbox",
    "SandboxApi",
    "SandboxApp",
    "SandboxBot",
    "StateFileError",
    "TrainingModel",
    "TrainingRecord",
    "UploadedFile",
    "UtteranceStore",
    "VariablesModel",
    "__version__",
    "check_reading",
    "is_language_code",
    "is_loopback_host",
]
