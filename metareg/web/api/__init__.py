"""The oversight HTTP API (FastAPI): `metareg.web.app.create_app` builds it."""
