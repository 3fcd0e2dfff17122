"""The demo's staff accounts, one per dashboard role, so `make run` can be explored as each of them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

PERSONAS = {"alice": "marketer", "bob": "support", "carol": "admin"}


def staff_personas_ensure(*, password: str) -> None:
    """Alice (marketer), Bob (support) and Carol (admin), staff with the demo password; idempotent."""
    for username, role in PERSONAS.items():
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", "first_name": username.title()}
        )
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=role)[0]])
