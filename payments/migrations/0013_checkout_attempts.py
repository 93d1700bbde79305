from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payments", "0012_dispute_evidence_files")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="payment_failures",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
