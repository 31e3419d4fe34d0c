#!/usr/bin/env python
"""Run the example site's Django commands: ``python example_project/manage.py runserver``."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    """Point Django at the example's settings and run the command line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
