from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0009_refund_limits")]

    operations = []
