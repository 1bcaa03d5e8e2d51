"""Choosing, hashing and packaging the files a servable ships."""
