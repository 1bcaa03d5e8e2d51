"""Repository tooling: the GitHub Action's steps and scaffolding new servable projects from `templates/`."""
