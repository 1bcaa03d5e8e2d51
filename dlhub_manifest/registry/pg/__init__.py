"""The registry's records on PostgreSQL (psycopg 3): schema migrations, the shared task queue, list/search."""
