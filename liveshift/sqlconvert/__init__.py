"""Plain SQL in: split a file with PostgreSQL's own parser (pglast), lint each statement for the locks it
takes (lint.py, locks.py), and convert DDL into a liveshift migration (convert.py). No database needed."""
