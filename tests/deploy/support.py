"""Run manage.py or a Python snippet in a fresh process with a chosen environment.

Settings are read from the environment once, at import: a production environment can only be tried
in a process of its own.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A production environment as docs/operations.md describes it.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "prod-like-7f3a9c1e5b2d8f4a6c0e2b9d7f1a3c5e8b0d2f4a6c9e1b3d5f7a0c2e4b6d8f",
    "ALLOWED_HOSTS": "pub.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "CSRF_TRUSTED_ORIGINS": "https://pub.example.com",
    "CORS_ALLOWED_ORIGINS": "https://pub.example.com",
}

# Variables a developer's shell or pytest-env may have set, which would change what is being tried.
_SCRUBBED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_COOKIES",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "CSRF_TRUSTED_ORIGINS",
    "CORS_ALLOWED_ORIGINS",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "ACCESS_LOG",
}


def environment(**overrides: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
