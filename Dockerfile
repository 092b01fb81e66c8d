# metareg in a container: the `metareg` command, nothing else. compose.yaml runs it as
# the worker (`metareg run`), the API (`metareg serve`) and the simulated registries of
# the demo world (`metareg simulate`) beside PostgreSQL; docs/deploy.md has the rest.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package only (with its configuration, scenarios, schemas and migrations as package
# data); the tests, benchmarks and documentation stay out of the image.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY metareg ./metareg
RUN pip install . && rm -rf /build \
    && useradd --system --create-home --home-dir /srv/metareg --uid 10001 metareg

USER metareg
WORKDIR /srv/metareg
# Configuration: $METAREG_CONFIG_DIR (mount a folder with registries.toml), else the
# default shipped in the package. The index: $METAREG_DATABASE_URL.
EXPOSE 8000
ENTRYPOINT ["metareg"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
