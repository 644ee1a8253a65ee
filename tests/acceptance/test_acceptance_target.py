"""The acceptance suite's decisions (acceptance_target.py): which target the environment names, what a tenant
is told before anything changes, where the recording goes, and what a recording must not hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from acceptance_target import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    BOT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    HOST,
    LANGUAGES,
    RECORDING,
    ROOT,
    SANDBOX,
    TENANT_RECORDING,
    Target,
    TargetError,
    announcement,
    ids_in,
    leaks,
    masked,
    plan_of,
    recording_path,
    target_from_environment,
)

pytestmark = [pytest.mark.acceptance, pytest.mark.unit]

SCRATCH_BOT = "st-0b5c2f3e-9a1d-4c7e-8f60-2d4b6a8c0e13"
TENANT = {
    HOST: "https://platform.kore.ai",
    CLIENT_ID: "cs-tenant-client",
    CLIENT_SECRET: "tenant-secret-value",
    BOT_ID: SCRATCH_BOT,
}


def refusal(environ: dict[str, str]) -> str:
    with pytest.raises(TargetError) as refused:
        target_from_environment(environ)
    return str(refused.value)


def test_without_a_host_the_target_is_the_sandbox() -> None:
    assert target_from_environment({}) is SANDBOX
    assert target_from_environment({RECORDING: "/tmp/r.json", "KORE_HOST": "elsewhere"}) is SANDBOX


def test_a_tenant_is_read_from_the_environment() -> None:
    target = target_from_environment({**TENANT, HOST: "https://bots.kore.ai/", LANGUAGES: "en, de en"})
    assert target == Target(
        kind="tenant",
        host="https://bots.kore.ai",
        client_id="cs-tenant-client",
        client_secret="tenant-secret-value",
        admin_client_id=None,
        admin_client_secret=None,
        bot_id=SCRATCH_BOT,
        languages=("en", "de"),
    )
    assert target_from_environment(TENANT).languages == ("en",)
    admin = target_from_environment(
        {**TENANT, ADMIN_CLIENT_ID: "cs-admin", ADMIN_CLIENT_SECRET: "admin-secret"}
    )
    assert admin.credentials_env() == {
        "KORE_CLIENT_ID": "cs-tenant-client",
        "KORE_CLIENT_SECRET": "tenant-secret-value",
        "KORE_ADMIN_CLIENT_ID": "cs-admin",
        "KORE_ADMIN_CLIENT_SECRET": "admin-secret",
    }


def test_a_tenant_without_a_scratch_bot_is_refused_naming_the_variable() -> None:
    message = refusal({HOST: "https://platform.kore.ai", CLIENT_ID: "cs-x", CLIENT_SECRET: "s"})
    assert f"{BOT_ID} is not set" in message and "scratch bot" in message
    assert "full import" in message


def test_every_problem_of_a_tenant_is_named_at_once_and_no_secret_is_shown() -> None:
    message = refusal(
        {
            HOST: "http://platform.kore.ai",
            BOT_ID: "travel",
            ADMIN_CLIENT_SECRET: "admin-secret-value",
            LANGUAGES: "en,fr",
        }
    )
    for name in (HOST, BOT_ID, CLIENT_ID, CLIENT_SECRET, ADMIN_CLIENT_ID, LANGUAGES):
        assert name in message
    assert "use https://" in message and "'fr'" not in message.split(LANGUAGES)[0]
    assert "admin-secret-value" not in message
    assert "path" in refusal({**TENANT, HOST: "https://platform.kore.ai/api/public"})


def test_tenant_variables_without_a_host_are_refused_rather_than_run_against_the_sandbox() -> None:
    message = refusal({BOT_ID: SCRATCH_BOT, CLIENT_SECRET: "stray-secret-value"})
    assert f"{CLIENT_SECRET}, {BOT_ID} are set but {HOST} is not" in message
    assert "stray-secret-value" not in message


def test_a_loopback_host_may_play_the_tenant() -> None:
    assert target_from_environment({**TENANT, HOST: "http://127.0.0.1:8089"}).host == "http://127.0.0.1:8089"


def test_the_recording_goes_where_asked_else_beside_the_state_for_a_tenant(tmp_path: Path) -> None:
    tenant = target_from_environment(TENANT)
    assert recording_path({RECORDING: str(tmp_path / "r.json")}, tenant, tmp_path) == tmp_path / "r.json"
    assert recording_path({}, tenant, tmp_path) == TENANT_RECORDING
    assert TENANT_RECORDING.is_relative_to(ROOT / ".pulumi-state")  # git ignores it
    assert recording_path({}, SANDBOX, tmp_path) == tmp_path / "recording.json"


def test_a_tenant_is_told_everything_the_run_changes_before_it_changes_anything() -> None:
    tenant = target_from_environment({**TENANT, LANGUAGES: "en de"})
    said = announcement(tenant, plan_of(tenant.languages), Path("/x/recording.json"))
    assert f"changes bot {SCRATCH_BOT} on https://platform.kore.ai (languages en, de)" in said
    assert "A FULL import of the definition definitions/travel" in said
    assert "botDefinition.json, config.json, flightStatus.js" in said
    assert "every other dialog, intent, entity and setting of the bot is removed" in said
    assert "koreAcceptanceApi (plain), koreAcceptanceKey (secured, a random value)" in said
    assert "en: ml-utterances.json (" in said and "de: ml-utterances.csv (" in said
    assert "Book Flight" in said
    assert "Trainings of en, de; then of en again after the edit" in said
    assert "A publish ('kore-resources acceptance run')" in said
    assert "/x/recording.json" in said
    assert "tenant-secret-value" not in said


def test_a_leak_is_named_never_shown() -> None:
    named = {"the client secret": "s3cr3t-value", "the bot id": SCRATCH_BOT}
    assert leaks(f'{{"path": "/bot/{SCRATCH_BOT}"}}', named) == ["the bot id"]
    assert leaks("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln", named) == ["a JWT"]
    assert leaks('{"answer": "str"}', named) == []


def test_the_ids_a_run_made_are_collected_and_secrets_masked() -> None:
    outputs = {
        "training-en": {
            "training_id": "65f1c3a2e8b7d4e6f9a0b1c2",
            "language": "en",
            "utterances_hash": "sha256:ab",
        },
        "variables": masked(
            {"variables": {"k": {"value": {"4dabf18193072939515e22adb298388d": "x", "ciphertext": "c"}}}}
        ),
    }
    assert outputs["variables"] == {"variables": {"k": {"value": "<secret>"}}}
    assert ids_in(outputs) == {"training-en.training_id": "65f1c3a2e8b7d4e6f9a0b1c2"}
