# Production image: daphne serving HTTP and WebSockets on :${PORT:-8000} (docs/operations.md).
#   docker build -t pub-ordering .
# PYTHON_IMAGE names the base of both stages: `make image-test` (docker/image-test.sh) builds and runs this
# file with podman on a local stand-in for python:3.11-slim-bookworm, where no registry can be reached.
# Two stages on the same official base image, so the virtualenv built in the first runs in the second:
#   build    compiler and MySQL headers, uv, the locked dependencies (with the mysql extra), static files
#   runtime  only the MariaDB client library, the venv and the code, running as a non-root user
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build -----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.9
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

# mysqlclient compiles against libmariadb (default-libmysqlclient-dev on Debian bookworm).
# Debian packages are not pinned: bookworm only ships security and bug fixes, which we want.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config default-libmysqlclient-dev \
    && rm -rf /var/lib/apt/lists/*

# uv from its PyPI wheel (no other registry or image needed).
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock changes, not on every code change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --extra mysql --no-install-project

COPY . .
RUN uv sync --frozen --no-dev --extra mysql \
    && chmod 0755 docker/entrypoint.sh \
    && rm -f db.sqlite3

# Static files are collected (and compressed) once, into the image. Settings refuse to load without a
# SECRET_KEY when DEBUG is off, so this one command gets a throwaway key that exists nowhere else.
RUN SECRET_KEY=collectstatic-only-not-a-real-secret DEBUG=0 \
    /app/.venv/bin/python manage.py collectstatic --noinput --verbosity 1

# --- runtime ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=config.settings \
    LOG_FORMAT=json

# libmariadb3: the shared library mysqlclient was linked against (its caching_sha2_password plugin,
# built with OpenSSL, also logs in to MySQL 8's default accounts). Nothing else: no compiler, no curl.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
# Code and venv stay owned by root (read-only for the app); /app itself is the app's, so that a
# container run without DATABASE_URL can still create its throwaway SQLite file there.
COPY --from=build /app /app
RUN chown app:app /app

USER 10001:10001
# The default of PORT (docker/entrypoint.sh and docker/healthcheck.py both read it).
EXPOSE 8000

# /healthz answers 200 when the database and the channel layer answer (CONTRACT.md section 4).
# start-period covers waiting for the database and the migrations of the first start.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

# Waits for the database, migrates under a lock, optionally seeds, then execs daphne.
# Given a command instead (`docker compose run --rm app python manage.py shell`), it runs that.
# No CMD: setting ENTRYPOINT clears the base image's ("python3"), so the default is to serve.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
