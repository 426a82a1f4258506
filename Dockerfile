# Quorum server and worker image: `quorum start` by default, `quorum worker` for jobs.
FROM node:20-bookworm-slim AS assets
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 QUORUM_HOST=0.0.0.0 QUORUM_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY web/templates ./web/templates
COPY web/static ./web/static
COPY --from=assets /src/web/node_modules/htmx.org/dist/htmx.min.js ./web/static/vendor/htmx.min.js
RUN pip install --no-cache-dir . && useradd --system --uid 10001 --home /data quorum \
    && mkdir -p /data && chown quorum /data
USER quorum
VOLUME /data
EXPOSE 8080
CMD ["quorum", "start", "--host", "0.0.0.0", "--port", "8080"]
