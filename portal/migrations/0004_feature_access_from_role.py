"""A supervisor or organization-admin membership now gives the portal by itself; an administrator
withholds features on the membership instead of granting them with permissions.

Nothing changes for people who had access:
- a user who held every feature permission (or is a superuser) withholds nothing;
- a user who held some of them (an administrator gave some features and not others) gets the
  others withheld on each of their supervisor and organization-admin memberships;
- a user who held none had no supervisor feature; their role now gives them the portal, which is
  the point of the change (a new supervisor no longer sees nothing).
The "Portal supervisors" group (when it holds only feature permissions) and the seven feature
permissions are then deleted: they no longer decide anything. Reversing recreates them, puts
supervisors who withhold nothing in the group and gives the others their remaining features.
"""

from collections import defaultdict

from django.db import migrations

GROUP_NAME = "Portal supervisors"
CODENAME_FEATURE = {
    "view_seat_usage": "seat_usage",
    "view_seat_holders": "seat_holders",
    "view_usage_history": "usage_history",
    "export_seat_data": "exports",
    "view_compliance": "compliance",
    "view_wallboard": "wallboard",
    "use_scheduled_reports": "scheduled_reports",
}
CODENAME_LABEL = {
    "view_seat_usage": "Portal: see seat usage",
    "view_seat_holders": "Portal: see who holds which seat",
    "view_usage_history": "Portal: see the usage history",
    "export_seat_data": "Portal: download CSV exports",
    "view_compliance": "Portal: see compliance events",
    "view_wallboard": "Portal: show the wallboard",
    "use_scheduled_reports": "Portal: configure and download scheduled reports",
}
SUPERVISOR_ROLES = ["supervisor", "org_admin"]


def feature_permissions(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="portal", codename__in=CODENAME_FEATURE
    )


def forwards(apps, schema_editor):
    User = apps.get_model("organizations", "User")
    Membership = apps.get_model("organizations", "Membership")
    Group = apps.get_model("auth", "Group")
    perms = feature_permissions(apps)

    held = defaultdict(set)  # user id -> feature codenames held directly or through a group
    for user_id, codename in User.user_permissions.through.objects.filter(
        permission__in=perms
    ).values_list("user_id", "permission__codename"):
        held[user_id].add(codename)
    by_group = defaultdict(set)
    for group_id, codename in Group.permissions.through.objects.filter(
        permission__in=perms
    ).values_list("group_id", "permission__codename"):
        by_group[group_id].add(codename)
    for user_id, group_id in User.groups.through.objects.filter(
        group_id__in=list(by_group)
    ).values_list("user_id", "group_id"):
        held[user_id] |= by_group[group_id]

    superusers = set(User.objects.filter(is_superuser=True).values_list("pk", flat=True))
    for user_id, codenames in held.items():
        missing = sorted(CODENAME_FEATURE[c] for c in CODENAME_FEATURE.keys() - codenames)
        if user_id in superusers or not missing:
            continue
        Membership.objects.filter(user_id=user_id, role__in=SUPERVISOR_ROLES).update(
            withheld_features=missing
        )

    group = Group.objects.filter(name=GROUP_NAME).first()
    if group is not None and not group.permissions.exclude(pk__in=perms).exists():
        group.delete()
    perms.delete()


def backwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("organizations", "User")
    Membership = apps.get_model("organizations", "Membership")
    content_type, _ = ContentType.objects.get_or_create(app_label="portal", model="scheduledreport")
    perms = {
        codename: Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": label}
        )[0]
        for codename, label in CODENAME_LABEL.items()
    }
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.add(*perms.values())
    withheld_by_user = defaultdict(set)
    for user_id, withheld in Membership.objects.filter(role__in=SUPERVISOR_ROLES).values_list(
        "user_id", "withheld_features"
    ):
        withheld_by_user[user_id] |= set(withheld)
    feature_codename = {f: c for c, f in CODENAME_FEATURE.items()}
    for user_id, withheld in withheld_by_user.items():
        user = User.objects.get(pk=user_id)
        if not withheld:
            user.groups.add(group)
        else:
            granted = set(feature_codename) - withheld
            user.user_permissions.add(*(perms[feature_codename[f]] for f in granted))


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_history"),
        ("organizations", "0005_membership_withheld_features"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="scheduledreport",
            options={
                "ordering": ["organization", "name"],
                "verbose_name": "scheduled report",
                "verbose_name_plural": "scheduled reports",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
