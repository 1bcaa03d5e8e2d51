"""Small shared helpers: atomic writes, redacting logs, package data, semver, names, sizes."""
