"""The oversight HTTP API (FastAPI): `metareg.api.app.create_app` builds it."""
