"""The data migration that makes a supervisor's role give the portal: nothing changes for people
who already had access, and an administrator's partial grant becomes a withholding."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("portal", "0003_history"), ("organizations", "0004_wallboard_organization")]
AFTER = [("portal", "0004_feature_access_from_role")]
ALL = [
    "view_seat_usage",
    "view_seat_holders",
    "view_usage_history",
    "export_seat_data",
    "view_compliance",
    "view_wallboard",
    "use_scheduled_reports",
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_grants_become_withholdings_and_the_group_goes():
    old = migrate(BEFORE)
    from django.contrib.auth.management import create_permissions

    # The feature permissions as the old code had them (post_migrate created them).
    portal = old.get_app_config("portal")
    portal.models_module = True
    create_permissions(portal, apps=old, verbosity=0)
    Permission = old.get_model("auth", "Permission")
    Group = old.get_model("auth", "Group")
    User = old.get_model("organizations", "User")
    Server = old.get_model("organizations", "Server")
    Organization = old.get_model("organizations", "Organization")
    Membership = old.get_model("organizations", "Membership")
    perms = {p.codename: p for p in Permission.objects.filter(codename__in=ALL)}
    assert len(perms) == 7
    group, _ = Group.objects.get_or_create(name="Portal supervisors")
    group.permissions.set(perms.values())

    org = Organization.objects.create(
        server=Server.objects.create(server_id="CIC-MIG"), name="Migrated"
    )

    def supervisor(name, role="supervisor"):
        user = User.objects.create(username=name, password="!")
        Membership.objects.create(user=user, organization=org, role=role)
        return user

    supervisor("in.group").groups.add(group)
    supervisor("every.perm", role="org_admin").user_permissions.add(*perms.values())
    supervisor("some.perms").user_permissions.add(
        perms["view_seat_usage"], perms["view_usage_history"]
    )
    supervisor("nothing.given")
    agent = User.objects.create(username="plain.agent", password="!")
    Membership.objects.create(user=agent, organization=org, role="agent")

    new = migrate(AFTER)
    withheld = dict(
        new.get_model("organizations", "Membership").objects.values_list(
            "user__username", "withheld_features"
        )
    )
    assert withheld["in.group"] == []
    assert withheld["every.perm"] == []
    assert withheld["some.perms"] == [
        "compliance",
        "exports",
        "scheduled_reports",
        "seat_holders",
        "wallboard",
    ]
    assert withheld["nothing.given"] == []  # the role gives the portal now
    assert withheld["plain.agent"] == []
    assert not new.get_model("auth", "Group").objects.filter(name="Portal supervisors").exists()
    assert not new.get_model("auth", "Permission").objects.filter(codename__in=ALL).exists()

    # Reversed, the old grants come back.
    old = migrate(BEFORE)
    User = old.get_model("organizations", "User")
    assert User.objects.get(username="in.group").groups.filter(name="Portal supervisors").exists()
    assert set(
        User.objects.get(username="some.perms").user_permissions.values_list("codename", flat=True)
    ) == {"view_seat_usage", "view_usage_history"}
    migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
