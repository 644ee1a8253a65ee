"""JWT minting and credential resolution (pure; no network)."""

import jwt
import pytest

from kore_resources.api.auth import Credentials, mint_jwt
from kore_resources.errors import ConfigurationError
from kore_resources.settings import resolve_credentials

pytestmark = pytest.mark.unit

CREDS = Credentials(
    "cs-11111111-2222-3333-4444-555555555555", "s3cret-value-of-a-realistic-length-0123456789"
)


def test_jwt_carries_app_id_expiry_and_random_jti():
    token = mint_jwt(CREDS, now=1_700_000_000)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, CREDS.client_secret, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["appId"] == CREDS.client_id  # exact spelling: Kore.ai rejects appid / AppId
    assert claims["iat"] == 1_700_000_000
    assert 60 <= claims["exp"] - claims["iat"] <= 3600  # minutes ahead; within the JTI apps' 1-hour cap
    assert len(claims["jti"]) >= 16
    assert set(claims) == {"appId", "sub", "iat", "exp", "jti"}


def test_each_token_has_a_new_jti():
    first = jwt.decode(mint_jwt(CREDS), CREDS.client_secret, algorithms=["HS256"])
    second = jwt.decode(mint_jwt(CREDS), CREDS.client_secret, algorithms=["HS256"])
    assert first["jti"] != second["jti"]


def test_token_is_signed_with_the_secret():
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(mint_jwt(CREDS), "another-secret-of-a-realistic-length-0123456789", algorithms=["HS256"])


def test_credentials_repr_hides_the_secret():
    assert "s3cret-value-of-a-realistic-length-0123456789" not in repr(CREDS)
    assert "s3cret-value-of-a-realistic-length-0123456789" not in str(CREDS)


def test_config_wins_over_environment():
    config = {"kore:clientId": "cs-from-config", "kore:clientSecret": "secret-from-config"}
    env = {"KORE_CLIENT_ID": "cs-from-env", "KORE_CLIENT_SECRET": "secret-from-env"}
    creds = resolve_credentials(config.get, env)
    assert creds == Credentials("cs-from-config", "secret-from-config")


def test_environment_fills_what_config_lacks():
    creds = resolve_credentials({"kore:clientId": "cs-from-config"}.get, {"KORE_CLIENT_SECRET": "env-secret"})
    assert creds == Credentials("cs-from-config", "env-secret")


@pytest.mark.parametrize(
    ("config", "env", "named"),
    [
        ({}, {}, ["kore:clientId", "KORE_CLIENT_ID", "kore:clientSecret", "KORE_CLIENT_SECRET"]),
        ({"kore:clientId": "cs-x"}, {}, ["kore:clientSecret", "KORE_CLIENT_SECRET"]),
        ({}, {"KORE_CLIENT_SECRET": "s"}, ["kore:clientId", "KORE_CLIENT_ID"]),
    ],
)
def test_missing_credential_names_config_key_and_env_var(config, env, named):
    with pytest.raises(ConfigurationError) as info:
        resolve_credentials(config.get, env)
    for name in named:
        assert name in str(info.value)
    assert "--secret" in str(info.value) or "kore:clientSecret" not in named
