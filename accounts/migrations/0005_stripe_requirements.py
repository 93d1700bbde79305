from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_hardening")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="stripe_requirements_eventually_due",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="user",
            name="stripe_requirements_deadline",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="stripe_requirements_errors",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="user",
            name="stripe_future_requirements_due",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="user",
            name="stripe_future_requirements_eventually_due",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="user",
            name="stripe_future_requirements_deadline",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
