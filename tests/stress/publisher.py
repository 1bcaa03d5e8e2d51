"""One publishing process of test_concurrency: `python publisher.py TARGET_ARGS... -- FOLDER...`.

Publishes each folder in turn through the CLI (`publish --wait --no-inspect --format json`) and prints one JSON
line per publication with what the user would have seen: exit code, stdout, stderr and any escaped exception.
"""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner

from dlhub_manifest.cli import cli


def main(argv: list[str]) -> int:
    split = argv.index("--")
    target_args, folders = argv[:split], argv[split + 1:]
    runner = CliRunner()
    for folder in folders:
        result = runner.invoke(cli, ["publish", folder, *target_args, "--wait", "--no-inspect", "--format", "json"])
        escaped = result.exception if not isinstance(result.exception, SystemExit) else None
        print(json.dumps({"folder": folder, "exit": result.exit_code, "stdout": result.stdout,
                          "stderr": result.stderr, "exception": repr(escaped) if escaped else None}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
