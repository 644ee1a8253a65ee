"""What the tests know about `tests/fixtures/state/<release>/`, the state each release recorded
(scripts/record-state-fixture.sh): where it is, the host and passphrase it was recorded with, and the plain
values of the secrets it holds encrypted."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "state"
RELEASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
RECORDED_HOST = "http://127.0.0.1:8089"  # what the fixtures' stack config said
DEMO_PASSPHRASE = "local-demo"  # scripts/demo.sh's, under which the fixtures' secrets are encrypted
#: The plain values of the secrets a release's state holds encrypted (which only the CLI can decrypt): what
#: the engine sends the plugin. In 0.2 the whole `kore-bots:bots` config holds a secret, so every variable
#: value the program reads from it is a secret (Pulumi.local.yaml).
PLAIN_SECRETS: dict[str, dict[str, str]] = {
    "v0.1.0": {},
    "v0.2.0": {
        "variables.flightApi.value": f"{RECORDED_HOST}/flights",
        "variables.flightApiKey.value": "local-sandbox-key",
    },
}
