# The production image: the app only. PostgreSQL runs as its own service (compose.yaml).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CANDOR_ENV=production CANDOR_HOST=0.0.0.0
RUN apt-get update && apt-get install -y --no-install-recommends libgmp10 && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 10001 candor
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY crypto ./crypto
COPY instruments ./instruments
COPY analysis ./analysis
COPY frontend ./frontend
RUN pip install --no-cache-dir .
USER candor
EXPOSE 8000
# Ready, not merely alive: /readyz gets a database connection within 1 s and runs
# `select 1`, so a replica whose requests would all wait or fail is reported unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
# Migrations are applied by the `migrate` service in compose.yaml before replicas start.
CMD ["candor", "serve"]
