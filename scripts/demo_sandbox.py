"""The demo's handle on its sandbox, over the sandbox's admin API on loopback (scripts/demo.sh uses it).

python scripts/demo_sandbox.py running URL   # exit 0 when a Kore.ai sandbox answers at URL (and a note on
                                             # stderr when it keeps no state file)
python scripts/demo_sandbox.py clear URL     # forget the API calls logged so far
python scripts/demo_sandbox.py count URL     # print how many API calls were logged since
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request


def admin(url: str, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(f"{url}/_sandbox/{path}", method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read() or b"null")


def main(command: str, url: str) -> int:
    if command == "running":
        try:
            info = admin(url, "info")
        except (OSError, urllib.error.URLError, ValueError):
            return 1
        if not isinstance(info, dict) or "bots" not in info:
            return 1
        if info.get("state_file") is None:
            print(
                f"Note: the sandbox at {url} keeps no state file (started by hand, or by an older "
                "scripts/demo.sh): what its bots hold is lost when it stops. Stop it (scripts/demo.sh stop "
                "stops those the demo started), and scripts/demo.sh starts one that keeps it.",
                file=sys.stderr,
            )
        return 0
    if command == "clear":
        admin(url, "calls", "DELETE")
        return 0
    if command == "count":
        calls = admin(url, "calls")
        print(len(calls["calls"]) if isinstance(calls, dict) else 0)
        return 0
    print(f"unknown command {command!r}; expected running, clear or count", file=sys.stderr)
    return 2


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
