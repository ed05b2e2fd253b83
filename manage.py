#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that neither serve requests nor sign anything may run in a bare checkout without
# SECRET_KEY (settings then use a throwaway key): a developer's makemigrations must just work.
OFFLINE_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "help", "version"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command in OFFLINE_COMMANDS:
        os.environ.setdefault("FLEET_OFFLINE_COMMAND", "1")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"configuration error: {exc}")


if __name__ == "__main__":
    main()
