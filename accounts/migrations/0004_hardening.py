from django.db import migrations, models


def recompute_username_keys(apps, schema_editor):
    """Every user's key as accounts.usernames.username_key now folds it (the UTS #39 skeleton
    plus the rn/m, 0/o, 1/i/l and vv/w folds). Users who now read alike keep their accounts: the
    oldest keeps the plain key, later ones get it with their id (logged and printed here; staff
    may ask them to pick another name, docs/operations.md), so the unique constraint below holds.
    """
    from accounts.usernames import recompute_username_keys as recompute

    for newer, older in recompute(apps.get_model("accounts", "User")):
        print(f"\n  username {newer!r} reads like the older {older!r}: kept, key made unique")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_username_key")]

    operations = [
        migrations.RunPython(recompute_username_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.CharField(default="", editable=False, max_length=300, unique=True),
        ),
    ]
