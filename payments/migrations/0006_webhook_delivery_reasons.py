from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_order_shipping_and_feedback")]

    operations = []
