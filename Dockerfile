# AIFF application image: API, workers, migrations and seeding all run from it
# (`aiff api`, `aiff worker ...`, `aiff db upgrade`, `aiff seed`). Used by docker-compose.yml
# and deploy/k8s/. Build: docker build -t aiff:latest .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached layer). README.md is optional (pyproject names it as the readme);
# constraints.txt pins the resolved versions.
COPY pyproject.toml constraints.tx[t] README.m[d] ./
COPY src ./src
RUN test -f README.md || echo "# aiff" > README.md \
 && if [ -f constraints.txt ]; then pip install -c constraints.txt . ; else pip install . ; fi \
 && useradd --system --uid 10001 --home-dir /app aiff \
 && mkdir -p /app/.state && chown aiff /app/.state

USER aiff

# The API listens on 0.0.0.0 inside the container; workers expose Prometheus metrics on 0.0.0.0:9108.
ENV AIFF_API_HOST=0.0.0.0 \
    AIFF_API_PORT=8085 \
    AIFF_WORKER_METRICS_HOST=0.0.0.0 \
    AIFF_STATE_DIR=/app/.state
EXPOSE 8085 9108

ENTRYPOINT ["aiff"]
CMD ["api"]
