# Multi-stage: build the virtualenv from the lock file, run as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements.lock pyproject.toml README.md ./
RUN uv venv /venv && uv pip sync --python /venv/bin/python requirements.lock
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv pip install --python /venv/bin/python --no-deps .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app aanmeldpunt
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/alembic.ini ./
# production: refuses to start without AUDIT_KEYS and ENCRYPTION_KEYS (or their _FILE forms).
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 ENVIRONMENT=production
USER aanmeldpunt
EXPOSE 8000
# DATABASE_URL must point at PostgreSQL in production; migrations run at start.
CMD ["aanmeldpunt", "serve"]
