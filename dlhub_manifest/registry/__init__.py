"""The registry: SQLite (WAL) records, content-addressed blobs, tasks and their worker, behind `RegistryService`."""
