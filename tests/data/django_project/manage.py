"""Django's command line for the test project (tests/integration/test_orm_pipelines.py)."""

import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    execute_from_command_line(sys.argv)
