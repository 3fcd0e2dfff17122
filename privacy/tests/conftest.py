"""The emulated Customer.io (forwarding's fixtures) and the dashboards' personas, for the GDPR tests."""

from dashboards.tests.conftest import _fast_passwords, as_user, personas  # noqa: F401
from forwarding.tests.conftest import emulator, emulator_server, workspace  # noqa: F401
