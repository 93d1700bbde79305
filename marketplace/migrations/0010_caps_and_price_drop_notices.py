from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0009_photo_processing")]

    operations = []
