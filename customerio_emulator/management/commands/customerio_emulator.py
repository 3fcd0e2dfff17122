"""`manage.py customerio_emulator`: run the Customer.io Track API emulator until SIGINT/SIGTERM."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customerio_emulator.cli import add_arguments, config_from_options, run


class Command(BaseCommand):
    help = "Run the Customer.io Track API emulator (inspection under /_emulator/)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = config_from_options(options)
        except ValueError as error:
            raise CommandError(str(error)) from error
        run(config, out=self.stdout)
