"""Loading and checking a dlhub.yaml: safe YAML with positions, schema and semantic checks, reports."""
