"""`manage.py media_bucket_setup [--create]`: the media bucket's policy (docs/deploy.md, "File storage")."""

from django.core.management.base import BaseCommand, CommandError

from core.storage import StorageUnavailable, media_bucket_setup


class Command(BaseCommand):
    help = (
        "Let anyone read the published stub photos in the S3 media bucket (MEDIA_S3_BUCKET) and "
        "nothing else; --create makes the bucket first (a local S3 server such as moto)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--create", action="store_true", help="create the bucket when it does not exist")

    def handle(self, *args, create: bool = False, **options):
        try:
            self.stdout.write(media_bucket_setup(create=create))
        except StorageUnavailable as error:
            raise CommandError(f"{error.message} (is MEDIA_S3_ENDPOINT_URL reachable?)") from error
