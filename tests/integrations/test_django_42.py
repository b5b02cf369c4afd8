"""The Django integration's tests again on Django 4.2 LTS, in a child interpreter.

The storage contract runs there from ``test_django_contract.py``; this module runs the
rest: the django-storages drop-ins and their settings (``test_django_compat.py``, with
``manage.py check``), the serve view, uploads and the Content-Type of stored objects
(``test_django_views.py``), and static files: ``GenroStaticStorage`` with
``collectstatic`` and ``StaticFilesMiddleware`` under gunicorn and uvicorn
(``test_django_static.py`` on its local mount, whose servers run Django 4.2 too) and its precomputed
answers (``test_django_static_answers.py``), and on a memory mount
(``test_django_static_memory.py``).
"""

from __future__ import annotations

import os

import django
import pytest

from tests.integrations._django_helpers import CHILD_FLAG, run_on_django_42

FILES = [
    "tests/integrations/test_django_compat.py",
    "tests/integrations/test_django_views.py",
    "tests/integrations/test_django_static.py",
    "tests/integrations/test_django_static_answers.py",
    "tests/integrations/test_django_static_memory.py",
]


@pytest.mark.skipif(not os.environ.get(CHILD_FLAG), reason="the 4.2 child only")
def test_child_runs_django_42() -> None:
    assert django.VERSION[:2] == (4, 2)


@pytest.mark.skipif(bool(os.environ.get(CHILD_FLAG)), reason="the child run")
@pytest.mark.slow  # four test files again, in a Django 4.2 child interpreter
def test_integration_passes_on_django_42() -> None:
    print(run_on_django_42([*FILES, "tests/integrations/test_django_42.py"]))
