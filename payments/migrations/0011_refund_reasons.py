from django.db import migrations, models

MARKETPLACE_REASONS = [
    ("not_as_described", "Not as described"),
    ("not_received", "Not received"),
    ("damaged", "Damaged"),
    ("cancelled_by_seller", "Cancelled by the seller"),
    ("other", "Other"),
]
STRIPE_REASONS = [
    ("requested_by_customer", "Requested by the buyer"),
    ("duplicate", "Duplicate payment"),
    ("fraudulent", "Fraudulent payment"),
]


class Migration(migrations.Migration):
    dependencies = [("payments", "0010_order_snapshot_and_rating_exclusion")]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="buyer_note",
            field=models.TextField(blank=True, help_text="Note to the buyer, in their refund emails."),
        ),
        migrations.AddField(
            model_name="refund",
            name="marketplace_reason",
            field=models.CharField(blank=True, choices=MARKETPLACE_REASONS, max_length=32),
        ),
        migrations.AddField(
            model_name="refundapproval",
            name="buyer_note",
            field=models.TextField(blank=True, help_text="Note to the buyer, in their refund emails."),
        ),
        migrations.AddField(
            model_name="refundapproval",
            name="marketplace_reason",
            field=models.CharField(blank=True, choices=MARKETPLACE_REASONS, max_length=32),
        ),
        migrations.AlterField(
            model_name="refund",
            name="reason",
            field=models.CharField(blank=True, choices=STRIPE_REASONS, max_length=32),
        ),
        migrations.AlterField(
            model_name="refundapproval",
            name="reason",
            field=models.CharField(blank=True, choices=STRIPE_REASONS, max_length=32),
        ),
    ]
