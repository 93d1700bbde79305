from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0013_checkout_attempts")]

    operations = []
