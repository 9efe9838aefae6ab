"""One module per CLI command; each defines `register(subparsers)` and sets `run` on its parser."""
