from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0008_inquiries_and_fraud_warnings")]

    operations = []
