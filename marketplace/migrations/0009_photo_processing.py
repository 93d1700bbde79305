from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0008_listing_search_document")]

    operations = []
