"""The read side as services: every SQL statement the API, the dashboard and the
read-side commands need lives here, and they call these functions, never each other.

- `itmos`: a unit or block as the index knows it (records, histories, state, alerts);
- `blocks`: the block search with its keyset cursor;
- `checks`: the authorization check (the one door to detection's proposed-action pass);
- `registries`: each registry's configuration and sync health, read once for all views;
- `totals`: aggregates by state, cooperative approach, vintage and Party;
- `alerts`: alerts, their acknowledgements, counts and feeds;
- `alert_pages`: one alert with its evidence and events, alert ordering, open counts
  by rule and registry, and the dates conflicts happened;
- `public`: the aggregates anyone may read without a key;
- `aef`: the Agreed Electronic Format export;
- `keys`: API keys (create, find, list, revoke);
- `readiness`: whether the index can serve.
"""
