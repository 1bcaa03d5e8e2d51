"""Hostile-input corpus: manifests written to break the loader and validator, and the contract they must keep."""
