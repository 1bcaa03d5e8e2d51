"""Helpers for running dlhub-manifest inside CI systems (the GitHub Action)."""
