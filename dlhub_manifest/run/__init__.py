"""Run a servable: from its project folder or as published, in a subprocess, with its input checked first.

Light on purpose: `invoke` runs inside the servable's subprocess, possibly in an isolated virtual environment
that has nothing but the servable's own dependencies.
"""
