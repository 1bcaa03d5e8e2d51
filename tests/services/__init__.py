"""Real services started by test fixtures on 127.0.0.1 (loaded from tests/conftest.py via `pytest_plugins`)."""
