"""For the tests of a data migration that hands models' content types from one app to another
(payments 0015 and 0016): which app each moved model's content type is labelled with now."""

from django.contrib.contenttypes.models import ContentType


def content_type_labels(models, *, ignore_apps=()) -> set[tuple[str, str]]:
    """(app_label, model) of every content type named in `models`, read past ContentType's cache
    (the migration relabels rows behind it); `ignore_apps` leaves out a third-party app's model
    of the same name."""
    ContentType.objects.clear_cache()
    return set(
        ContentType.objects.filter(model__in=models)
        .exclude(app_label__in=ignore_apps)
        .values_list("app_label", "model")
    )
