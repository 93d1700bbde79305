"""What a web worker would otherwise load on its first requests, loaded once in gunicorn's master
before it forks them (gunicorn.conf.py's `when_ready`, with `preload_app`): the URLconf (its
modules, every pattern's regex, reverse()'s tables) and the templates, the project's own and the
form widgets', compiled by the cached loaders. Every worker forked afterwards, and every worker
gunicorn starts again after `max_requests`, starts with them: a fresh worker's first browse page
cost ~90 ms of CPU before, ~45 ms after (docs/performance.md).

Nothing here opens a database connection, a cache connection or a file the workers would share:
whatever the master opens, every worker inherits.
"""

import logging
from pathlib import Path

import django.forms
from django.conf import settings
from django.forms.renderers import get_default_renderer
from django.template import TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.urls import get_resolver

logger = logging.getLogger(__name__)


def _compile_folder(backend: DjangoTemplates, folder: Path) -> int:
    compiled = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                backend.get_template(path.relative_to(folder).as_posix())
            except TemplateSyntaxError as error:  # its page fails as it would have; the site starts
                logger.warning("Template %s could not be compiled: %s", path, error)
                continue
            compiled += 1
    return compiled


def warm_for_requests() -> dict[str, int]:
    """Load the URLconf and compile the templates pages draw; how many of each were loaded."""
    # The root's table, then each namespace's (an app's `include()`, read when a
    # `{% url "app:name" %}` first asks for it).
    resolvers, url_names = [get_resolver()], 0
    while resolvers:
        resolver = resolvers.pop()
        url_names += len(resolver.reverse_dict)
        resolvers.extend(child for _prefix, child in resolver.namespace_dict.values())
    templates = 0
    root = Path(settings.BASE_DIR).resolve()
    for backend in engines.all():
        if isinstance(backend, DjangoTemplates):
            for folder in map(Path, backend.template_dirs):
                # The packages' own templates (the admin's) load when staff first ask for them.
                if folder.resolve().is_relative_to(root) and ".venv" not in folder.resolve().parts:
                    templates += _compile_folder(backend, folder)
    renderer = get_default_renderer()  # forms draw their widgets with an engine of their own
    if isinstance(getattr(renderer, "engine", None), DjangoTemplates):
        templates += _compile_folder(renderer.engine, Path(django.forms.__file__).parent / "templates")
    return {"url_names": url_names, "templates": templates}
