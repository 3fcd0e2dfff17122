"""The three dashboard roles as groups; the admin role may also use the Django admin for sources, keys and
the outbox (replay). Membership is what the dashboards check; the model permissions serve the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("marketer", "support", "admin")
ADMIN_PERMISSIONS = [
    ("workspaces", "workspace", ("view", "change")),
    ("workspaces", "source", ("view", "add", "change")),
    ("forwarding", "delivery", ("view",)),
    ("forwarding", "deliveryattempt", ("view",)),
    ("identities", "person", ("view",)),
    ("identities", "identity", ("view",)),
    ("identities", "merge", ("view",)),
    ("identities", "split", ("view",)),
    ("identities", "identitywarning", ("view",)),
    ("identities", "duplicatedismissal", ("view",)),
    ("dashboards", "auditentry", ("view",)),
    ("authtoken", "tokenproxy", ("view", "add", "delete")),
]


def roles_create(apps, schema_editor):
    # Permissions are normally made after migrating; make them now so the admin group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
    for app_label, model, actions in ADMIN_PERMISSIONS:
        codenames = [f"{action}_{model}" for action in actions]
        groups["admin"].permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


def roles_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("workspaces", "0002_forwarding_switches"),
        ("forwarding", "0001_initial"),
        ("identities", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_create, roles_delete)]
