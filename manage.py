#!/usr/bin/env python
"""Run Django's command-line utility for Commonplace."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonplace.settings")
    from django.core.management import execute_from_command_line

    from commonplace.env import load_settings_or_exit

    load_settings_or_exit()

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
