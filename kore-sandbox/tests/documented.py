"""What Kore.ai's docs (and Kore's QA) show it answering, which the emulator's tests hold the sandbox to
(docs/kore-api.md §4), and the demo bots the tests call. Written here, not imported from kore_sandbox: the
tests check the sandbox against the docs, not against itself."""

from __future__ import annotations

import re

from kore_sandbox import DEMO_BOTS

BOT = DEMO_BOTS[0].bot_id
OTHER_BOT = DEMO_BOTS[1].bot_id

VALIDATION = {"errors": [{"msg": "Validation errors/ Invalid arguments", "code": 412}]}
CREDENTIALS = {"errors": [{"msg": "Invalid SDK credentials", "code": 4002}]}
SCOPE = {"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]}
#: The docs' timestamps: ISO 8601 in UTC with milliseconds.
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
