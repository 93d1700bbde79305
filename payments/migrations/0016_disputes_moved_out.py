from django.db import migrations


class Migration(migrations.Migration):
    """The disputes models now belong to the disputes app (same tables); payments forgets them."""

    dependencies = [("payments", "0015_ratings_moved_out")]

    operations = []
