"""`liveshift schema`: print the JSON Schema of a migration file, for editors and CI linters."""

from __future__ import annotations

import argparse
import json
import sys

from liveshift.cli.options import add_command
from liveshift.cli.process import Exit
from liveshift.spec import json_schema


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "schema",
        help="print the migration file JSON Schema",
        description="Print the JSON Schema of a migration file (YAML or JSON), e.g. for an editor's validation.",
        run=run,
        json=False,
        connection=False,
    )
    parser.add_argument("--compact", action="store_true", help="one line instead of indented JSON")


def run(args: argparse.Namespace) -> int:
    schema = json_schema()
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema.setdefault("title", "liveshift migration")
    sys.stdout.write(json.dumps(schema, indent=None if args.compact else 2) + "\n")
    return Exit.OK
