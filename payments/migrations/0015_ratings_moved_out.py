from django.db import migrations


class Migration(migrations.Migration):
    """The ratings models now belong to the ratings app (same tables); payments forgets them."""

    dependencies = [("payments", "0014_payouts")]

    operations = []
