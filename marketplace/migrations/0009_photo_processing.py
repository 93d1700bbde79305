from django.db import migrations, models

PHOTO_STATES = [("processing", "Processing"), ("ready", "Ready"), ("failed", "Could not be processed")]


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0008_listing_search_document")]

    operations = [
        migrations.AddField(
            model_name="stub",
            name="photo_state",
            field=models.CharField(choices=PHOTO_STATES, default="ready", max_length=10),
        ),
        migrations.AddField(
            model_name="stub",
            name="photo_upload",
            field=models.FileField(blank=True, editable=False, upload_to="incoming/"),
        ),
        migrations.AddField(
            model_name="stubphoto",
            name="state",
            field=models.CharField(choices=PHOTO_STATES, default="ready", max_length=10),
        ),
        migrations.AddField(
            model_name="stubphoto",
            name="upload",
            field=models.FileField(blank=True, editable=False, upload_to="incoming/"),
        ),
        migrations.AlterField(
            model_name="stubphoto",
            name="image",
            field=models.ImageField(blank=True, upload_to="stubs/%Y/%m/"),
        ),
        migrations.AlterField(
            model_name="stubphoto",
            name="thumbnail",
            field=models.ImageField(blank=True, upload_to="stubs/thumbs/%Y/%m/"),
        ),
    ]
