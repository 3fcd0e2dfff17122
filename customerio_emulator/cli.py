"""Command-line options and the run loop shared by `python -m customerio_emulator` and the Django command."""

import argparse
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from .server import DEFAULT_CREDENTIALS, EmulatorConfig, make_server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the emulator's options on `parser` (an argparse parser or Django's CommandParser)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on, 0 for any (default 8025)")
    parser.add_argument(
        "--credentials",
        action="append",
        metavar="SITE:KEY",
        default=None,
        help="a workspace's site_id and Track API key; repeatable (default demo-site:demo-key)",
    )
    parser.add_argument(
        "--tls-cert",
        default=None,
        help="PEM certificate: serve https (the official SDK needs it)",
    )
    parser.add_argument("--tls-key", default=None, help="PEM private key for --tls-cert")
    parser.add_argument(
        "--region",
        choices=("us", "eu"),
        default="us",
        help="what /api/v1/accounts/region answers",
    )
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")


def parse_credentials(values: list[str] | None) -> dict[str, str]:
    """Turn repeated `SITE:KEY` options into a site_id -> key map."""
    if not values:
        return dict(DEFAULT_CREDENTIALS)
    credentials: dict[str, str] = {}
    for value in values:
        site_id, separator, api_key = value.partition(":")
        if not separator or not site_id or not api_key:
            raise ValueError(f"--credentials must look like SITE:KEY, got {value!r}")
        credentials[site_id] = api_key
    return credentials


def config_from_options(options: Mapping[str, Any]) -> EmulatorConfig:
    """Build the config from parsed options (argparse namespace vars or Django's options dict)."""
    return EmulatorConfig(
        host=str(options["host"]),
        port=int(options["port"]),
        credentials=parse_credentials(options.get("credentials")),
        tls_cert=options.get("tls_cert") or None,
        tls_key=options.get("tls_key") or None,
        region=str(options.get("region") or "us"),
        verbose=bool(options.get("verbose")),
    )


def run(config: EmulatorConfig, *, out: TextIO) -> None:
    """Serve until SIGINT or SIGTERM. Must be called from the main thread (signal handlers live there)."""
    server = make_server(config)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start_in_thread()
    sites = ", ".join(sorted(config.credentials))
    out.write(
        f"Customer.io emulator listening on {server.base_url} (workspaces: {sites}); "
        f"inspection at {server.base_url}/_emulator/\n"
    )
    out.flush()
    try:
        stop.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        out.write("Customer.io emulator stopped\n")
        out.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m customerio_emulator",
        description="Customer.io Track API emulator",
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        config = config_from_options(options)
    except ValueError as error:
        parser.error(str(error))
    run(config, out=sys.stdout)
