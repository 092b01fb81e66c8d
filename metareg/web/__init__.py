"""What people and programs reach over HTTP: the oversight API (`api`) and the
dashboard (`dashboard`), mounted together by `app.create_app`. Both read through
`metareg.oversight` and never import each other (an import-linter contract says so);
what both need sits here: `auth` (roles, the route -> least-role table, the key ->
caller lookup), `settings`, `problems` (errors as RFC 9457 documents).

A new API route: a router under `api/routers/` that parses the request, calls
`metareg.oversight`, shapes the answer, plus its row in `auth.ROUTE_ROLES`. A new page:
a view in `dashboard/views.py` with its template, the same way, and its row too."""
