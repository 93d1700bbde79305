from django.db import migrations


def support_handles_messages(apps, schema_editor):
    # Support may read conversations, post into one as staff and handle message reports
    # (payments/staff.py names them).
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("payments", "0016_disputes_moved_out"),
    ]

    operations = [migrations.RunPython(support_handles_messages, migrations.RunPython.noop)]
