from django.db import migrations

MOVED_MODELS = ("dispute", "disputeevidencefile")


def _permission_merge(old, into) -> None:
    """`into` takes the groups and users of `old`, which goes."""
    into.group_set.add(*old.group_set.all())
    into.user_set.add(*old.user_set.all())
    old.delete()


def _permission_move(apps, permission, content_type) -> None:
    Permission = apps.get_model("auth", "Permission")
    same = Permission.objects.filter(content_type=content_type, codename=permission.codename).first()
    if same is None:
        permission.content_type = content_type
        permission.save(update_fields=["content_type"])
    else:
        _permission_merge(permission, same)


def _content_type_move(apps, *, model: str, source: str, target: str) -> None:
    """The content type of `model` belongs to `target` from now on, with its permissions (and so
    the groups and users given them) and its admin log entries. Usually its row is relabelled;
    if `target` has one already (post_migrate made it after a partial migrate), that one takes
    over what hangs on the old one."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    old = ContentType.objects.filter(app_label=source, model=model).first()
    if old is None:
        return  # a database whose content types were never made: post_migrate makes them right
    new = ContentType.objects.filter(app_label=target, model=model).first()
    if new is None:
        old.app_label = target
        old.save(update_fields=["app_label"])
        return
    for permission in Permission.objects.filter(content_type=old):
        _permission_move(apps, permission, new)
    LogEntry.objects.filter(content_type=old).update(content_type=new)
    old.delete()


def _respond_dispute_move(apps, *, source: tuple[str, str], target: tuple[str, str]) -> None:
    """respond_dispute was declared on payments' Order; it is the Dispute model's now."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label=source[0], content_type__model=source[1], codename="respond_dispute"
    ).first()
    if permission is None:
        return
    content_type, _ = ContentType.objects.get_or_create(app_label=target[0], model=target[1])
    _permission_move(apps, permission, content_type)


def disputes_hand_over(apps, schema_editor):
    for model in MOVED_MODELS:
        _content_type_move(apps, model=model, source="payments", target="disputes")
    _respond_dispute_move(apps, source=("payments", "order"), target=("disputes", "dispute"))
    apps.get_model("contenttypes", "ContentType").objects.clear_cache()
    # A database made from scratch gave the staff groups nothing of the disputes app yet (they
    # were made and topped up while Dispute was payments'): top them up now.
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


def disputes_hand_back(apps, schema_editor):
    _respond_dispute_move(apps, source=("disputes", "dispute"), target=("payments", "order"))
    for model in MOVED_MODELS:
        _content_type_move(apps, model=model, source="disputes", target="payments")
    apps.get_model("contenttypes", "ContentType").objects.clear_cache()


class Migration(migrations.Migration):
    """The disputes models now belong to the disputes app (same tables); payments forgets them.

    The database keeps its tables (disputes/migrations/0001_initial.py took the models over in the
    migration state only). Their content types move to the disputes app, so their permissions,
    the staff groups given them and the admin log follow; respond_dispute moves from Order to
    Dispute (checked as "disputes.respond_dispute")."""

    dependencies = [
        ("payments", "0015_ratings_moved_out"),
        ("disputes", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterModelOptions(
                    name="order",
                    options={
                        "ordering": ["-created_at"],
                        "permissions": [
                            ("refund_order", "Can refund orders up to the support limit"),
                            ("refund_order_any_amount", "Can refund orders of any amount"),
                        ],
                    },
                ),
                migrations.DeleteModel(name="DisputeEvidenceFile"),
                migrations.DeleteModel(name="Dispute"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(disputes_hand_over, disputes_hand_back),
    ]
