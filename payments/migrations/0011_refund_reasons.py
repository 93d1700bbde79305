from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0010_order_snapshot_and_rating_exclusion")]

    operations = []
