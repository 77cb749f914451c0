# One Dockerfile for the four Ruggengraat services; the service is chosen at build time:
#   docker build -f deploy/service.Dockerfile --build-arg SERVICE=intake --build-arg HTTP_PORT=8001 \
#     -t ruggengraat/intake:0.1.0 .
# The build context is the repository root. The four images share every layer up to the per-service
# ARGs, so building all four installs the dependencies once.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A numeric uid/gid so Kubernetes can verify runAsNonRoot; the home is the process's working directory,
# the only place it may write (the faust worker keeps its data directory under the working directory).
RUN groupadd --system --gid 10001 ruggengraat \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/ruggengraat --create-home \
        --shell /usr/sbin/nologin ruggengraat

WORKDIR /src

# Dependencies first, from the project metadata and the pins only, so that a code change does not
# reinstall them. pip cannot install "." without the package sources, so the runtime dependency list is
# read from pyproject.toml and installed under constraints.txt (which also pins the transitive ones). Only
# `dependencies`: the extras `local` (embedded PostgreSQL, the tansu broker) and `dev` (test tools) stay out,
# and so do the docs page's source maps (7 MB that only a browser's developer tools ask for).
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && find "$(python -c 'import swagger_ui_bundle; print(swagger_ui_bundle.swagger_ui_path)')" -name '*.map' -delete

# Only the project's packages: the context also holds .git and .venv, which have no place in an image.
COPY shared ./shared
COPY services ./services
COPY deploy ./deploy
COPY bench ./bench
RUN pip install --no-deps -c constraints.txt . \
 && pip check \
 && rm -rf build ./*.egg-info

# Declared after the shared layers: a build argument used by a RUN becomes part of that layer's cache key.
ARG SERVICE
ARG HTTP_PORT
RUN case "${SERVICE}:${HTTP_PORT}" in \
      intake:8001|pathway:8002|reporting:8003|notifications:8004) ;; \
      *) echo "build with --build-arg SERVICE=intake|pathway|reporting|notifications and its" \
              "HTTP_PORT 8001|8002|8003|8004 (got '${SERVICE}:${HTTP_PORT}')" >&2; exit 1 ;; \
    esac

LABEL org.opencontainers.image.title="ruggengraat-${SERVICE}" \
      org.opencontainers.image.description="Ruggengraat ${SERVICE} service"

# production refuses a default JWT_SECRET, so a bare `docker run` without one stops instead of running
# with a guessable key; compose sets development.
ENV SERVICE=${SERVICE} \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=${HTTP_PORT} \
    RUGGENGRAAT_ENV=production \
    LOG_LEVEL=INFO

USER 10001:10001
WORKDIR /var/lib/ruggengraat
EXPOSE ${HTTP_PORT}

# slim has no curl; urlopen raises on a refused connection or a non-2xx answer, so the exit code is 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['HTTP_PORT'], timeout=4)"]

# exec replaces the shell, so python is PID 1 and receives SIGTERM from `docker stop` / the kubelet.
CMD ["/bin/sh", "-c", "exec python -m \"services.${SERVICE}\""]
