"""`python -m customerio_emulator --port 8025 --credentials SITE:KEY ...`: run without Django."""

from .cli import main

main()
