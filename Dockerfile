# The liveshift worker and CLI for a real cluster: `liveshift worker` by default, any command otherwise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY liveshift ./liveshift
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY cli ./cli
RUN pip install . && useradd --system --no-create-home liveshift

USER liveshift
EXPOSE 9464
ENTRYPOINT ["liveshift"]
CMD ["worker"]
