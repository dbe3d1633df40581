"""Container health check (Dockerfile HEALTHCHECK): exit 0 when this container's /healthz answers 200.

Plain HTTP from inside the container: /healthz is exempt from the HTTPS redirect. The Host header is
one that ALLOWED_HOSTS accepts, else Django would answer 400 to "127.0.0.1". The port is the one the
entrypoint gave daphne: PORT, default 8000. Standard library only.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORT = 8000


def url() -> str:
    """This container's /healthz, on the port docker/entrypoint.sh serves on."""
    raw = os.environ.get("PORT", "").strip() or str(DEFAULT_PORT)
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise ValueError(f"PORT must be a number from 1 to 65535, not {raw!r}")
    return f"http://127.0.0.1:{int(raw)}/healthz"


def allowed_host() -> str:
    for pattern in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = pattern.strip().lstrip("*").lstrip(".")  # "*" and ".example.com" match any / the bare domain
        if host:
            return host
    return "localhost"  # in the default ALLOWED_HOSTS


def main() -> int:
    try:
        request = urllib.request.Request(url(), headers={"Host": allowed_host()})
    except ValueError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            print(response.read(200).decode(errors="replace"))
            return 0
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: HTTP {exc.code} {exc.read(200).decode(errors='replace')}", file=sys.stderr)
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
