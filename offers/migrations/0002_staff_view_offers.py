from django.db import migrations


def staff_view_offers(apps, schema_editor):
    # Support and Finance may view offers in admin (payments/staff.py names the model).
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0001_initial"),
        ("messaging", "0002_support_joins_conversations"),
    ]

    operations = [migrations.RunPython(staff_view_offers, migrations.RunPython.noop)]
