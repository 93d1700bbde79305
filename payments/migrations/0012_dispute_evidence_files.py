from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0011_refund_reasons")]

    operations = []
