"""Checks of the stack config as a whole, before any resource is declared (pure: the program passes in
what it read)."""

from __future__ import annotations


def plaintext_secret_problem(key: str, *, is_secret: bool, is_set: bool, stack: str) -> str | None:
    """Why a credential set without `--secret` must not be deployed, or None.

    The engine stores the whole stack config as the inputs of the default `pulumi-python` provider in the
    stack's state, so a value set without `--secret` would be recorded there in plain text (and it already
    sits in plain text in `Pulumi.<stack>.yaml`). The program refuses it before any resource is declared,
    so nothing is recorded; the message names the command that fixes it and never the value."""
    if not is_set or is_secret:
        return None
    return (
        f"{key} is set in plain text in Pulumi.{stack}.yaml, so Pulumi would also record it in plain text in "
        f"the stack's state. Store it encrypted: `pulumi config set --secret {key} <value> --stack {stack}` "
        "(or drop it from the stack config and set KORE_CLIENT_SECRET in the environment)."
    )
