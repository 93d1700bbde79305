"""Feedback and SellerRating now belong to the ratings app (ratings 0001, same tables, indexes,
constraints and trigger); payments forgets them, in the migration state only.

Their content types move with them (app_label payments → ratings), so the permissions granted on
them, the groups holding those permissions and the admin log entries about them follow the
models instead of pointing at models payments no longer has. Reversible.
"""

from django.db import migrations

MOVED = ("feedback", "sellerrating")


def _permission_move(apps, permission, content_type) -> None:
    """`permission` hangs on `content_type` from now on; if that has the same codename already,
    that one takes the groups and users of `permission`, which goes."""
    Permission = apps.get_model("auth", "Permission")
    same = Permission.objects.filter(content_type=content_type, codename=permission.codename).first()
    if same is None:
        permission.content_type = content_type
        permission.save(update_fields=["content_type"])
        return
    same.group_set.add(*permission.group_set.all())
    same.user_set.add(*permission.user_set.all())
    permission.delete()


def _content_types_move(apps, *, source, target):
    """Usually each row is relabelled; if `target` has one already (post_migrate made it after a
    partial migrate), that one takes over the permissions and log entries of the old one."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue  # a database whose content types were never made: post_migrate makes them
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.filter(content_type=old):
            _permission_move(apps, permission, new)
        LogEntry.objects.filter(content_type=old).update(content_type=new)
        old.delete()
    ContentType.objects.clear_cache()


def content_types_to_ratings(apps, schema_editor):
    _content_types_move(apps, source="payments", target="ratings")


def content_types_to_payments(apps, schema_editor):
    _content_types_move(apps, source="ratings", target="payments")


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0014_payouts"),
        ("ratings", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Feedback"),
                migrations.DeleteModel(name="SellerRating"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_ratings, content_types_to_payments),
    ]
