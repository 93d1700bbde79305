from django.db import migrations


def create_groups(apps, schema_editor):
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


def remove_groups(apps, schema_editor):
    from payments.staff import GROUP_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_refunds"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0001_initial"),
        ("marketplace", "0001_initial"),
        ("djstripe", "__latest__"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
