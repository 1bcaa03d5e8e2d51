"""`python -m dlhub_manifest` runs the CLI."""

from dlhub_manifest.cli import main

if __name__ == "__main__":
    main()
