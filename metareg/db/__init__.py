"""Storage: tables, engine, migrations and the bulk upsert helper."""
