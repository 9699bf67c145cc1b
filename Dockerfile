# syntax=docker/dockerfile:1.7

# --- build: resolve and install dependencies into a virtualenv -------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY conductor_site ./conductor_site
COPY apps ./apps
RUN pip install --upgrade pip && pip install .

# --- runtime: the virtualenv, the code, a non-root user --------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=false \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    CONDUCTOR_DATA_DIR=/var/lib/conductor \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN groupadd --system conductor \
    && useradd --system --gid conductor --home-dir /app --shell /usr/sbin/nologin conductor \
    && mkdir -p /var/lib/conductor \
    && chown conductor:conductor /var/lib/conductor
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=conductor:conductor . .
# collectstatic needs settings, not secrets: a throw-away key that never leaves this layer's command.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-real-secret python manage.py collectstatic --noinput \
    && chown -R conductor:conductor /app/staticfiles \
    && python -m compileall -q apps conductor_site
# Compiled here: PYTHONDONTWRITEBYTECODE keeps processes from writing .pyc at run time,
# and every process would otherwise compile the project's modules again at start.
USER conductor
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "docker/healthcheck.py"]
CMD ["sh", "-c", "exec daphne --bind 0.0.0.0 --port ${PORT} --proxy-headers conductor_site.asgi:application"]
