from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0009_photo_processing")]

    operations = [
        migrations.AddField(
            model_name="watch",
            name="price_drop_emailed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
