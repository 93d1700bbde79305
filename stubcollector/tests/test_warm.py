"""stubcollector/warm.py: what gunicorn's master loads before it forks the workers (the URLconf,
the compiled templates), without touching the database (no `django_db` mark here: any query
fails the test)."""

import logging

from django.template import engines
from django.urls import get_resolver

from stubcollector.warm import warm_for_requests


def cached_names(backend) -> set[str]:
    (loader,) = backend.engine.template_loaders  # Django's cached loader around the others
    return set(loader.get_template_cache)


def test_the_urlconf_and_every_project_template_are_loaded_before_any_request(settings):
    settings.TEMPLATES = [dict(settings.TEMPLATES[0])]  # a fresh engine, nothing compiled yet
    assert "marketplace/listing_detail.html" not in cached_names(engines["django"])

    loaded = warm_for_requests()

    names = cached_names(engines["django"])
    assert {"base.html", "marketplace/listing_detail.html", "marketplace/_purchase.html",
            "messaging/_header_link.html"} <= names
    assert loaded["templates"] >= len(names) > 100
    assert "admin/index.html" in names  # ours; the admin package's own load when staff ask
    assert "admin/change_list.html" not in names and "admin/base.html" not in names
    namespaces = get_resolver().namespace_dict
    assert {"marketplace", "payments_pages", "accounts"} <= set(namespaces)
    assert all(child._populated for _prefix, child in namespaces.values())
    assert loaded["url_names"] > 100


def test_a_template_that_does_not_compile_is_logged_and_the_rest_still_load(settings, tmp_path, caplog):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "broken.html").write_text("{% if %}")
    (folder / "fine.html").write_text("{{ greeting }}")
    settings.BASE_DIR = tmp_path
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [folder]}]

    with caplog.at_level(logging.WARNING, logger="stubcollector.warm"):
        warm_for_requests()

    assert "fine.html" in cached_names(engines["django"])
    assert any("broken.html" in record.getMessage() for record in caplog.records)
