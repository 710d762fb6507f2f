"""PostgreSQL: the schema (schema.py), the engine (engine.py) and migrations (migrate.py)."""
