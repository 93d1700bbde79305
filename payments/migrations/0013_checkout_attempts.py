from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0012_dispute_evidence_files")]

    operations = []
