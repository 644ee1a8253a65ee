"""Validation of the values that end up in URLs, headers and the state: bot ids and hosts (language codes:
`languages`).

Pure functions shared by the providers' `check` (which reports them as CheckFailures before any network
call) and the HTTP client (which refuses them again right before they reach a URL or a header, so no input
can change a request's path or query, or add a header).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

BOT_ID_PATTERN = re.compile(r"st-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def is_loopback_host(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def normalize_host(host: str) -> str:
    """`https://Platform.Kore.ai/` and `https://platform.kore.ai` are the same host."""
    parts = urlsplit(host.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def host_problem(host: str) -> str | None:
    """Why `host` is not a usable Kore.ai base URL, or None if it is."""
    try:
        parts = urlsplit(host.strip())
        port = parts.port
    except ValueError as exc:
        return f"{host!r} is not a URL ({exc}); expected e.g. https://platform.kore.ai"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{host!r} must be an https:// URL such as https://platform.kore.ai"
    if parts.username or parts.password:
        return f"{host!r} must not contain credentials; set kore:clientId and kore:clientSecret instead"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{host!r} must be the bare host (https://platform.kore.ai), without a path or query"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return (
            f"{host!r} uses plain http://, which would send the auth token unencrypted; use https:// "
            "(http:// is only accepted for loopback addresses such as the local sandbox)"
        )
    if port == 0:
        return f"{host!r} has port 0"
    return None


def bot_id_problem(bot_id: object) -> str | None:
    if isinstance(bot_id, str) and BOT_ID_PATTERN.fullmatch(bot_id):
        return None
    return (
        f"{bot_id!r} is not a Kore.ai bot id; expected st- followed by a UUID, "
        "as shown in the bot's App Settings (Bot ID)"
    )
