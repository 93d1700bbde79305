from django.db import migrations


def staff_decide_reports(apps, schema_editor):
    # Support and Finance may read problem reports and decide them (payments/staff.py names them).
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0001_initial"),
        ("messaging", "0002_support_joins_conversations"),
    ]

    operations = [migrations.RunPython(staff_decide_reports, migrations.RunPython.noop)]
