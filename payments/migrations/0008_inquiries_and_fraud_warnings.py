from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_fees_and_balances")]

    operations = []
