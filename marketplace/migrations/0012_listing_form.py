from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0011_search_trigrams")]

    operations = []
