"""Git: clean trees, pinned commits, tags, and remote URLs without credentials."""
