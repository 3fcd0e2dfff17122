"""Django app config, only so `manage.py customerio_emulator` is found; the emulator needs no Django."""

from django.apps import AppConfig


class CustomerioEmulatorConfig(AppConfig):
    """The Customer.io Track API emulator app (no models)."""

    name = "customerio_emulator"
    verbose_name = "Customer.io emulator"
