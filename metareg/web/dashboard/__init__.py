"""The dashboard for people: server-rendered pages mounted in the oversight API app
(`create_app` includes `dashboard_router()`), under /dashboard."""

from __future__ import annotations

from fastapi import APIRouter


def dashboard_router() -> APIRouter:
    from metareg.web.dashboard.quarantine import router as quarantine
    from metareg.web.dashboard.views import router

    combined = APIRouter()
    combined.include_router(router)
    combined.include_router(quarantine)
    return combined


__all__ = ["dashboard_router"]
