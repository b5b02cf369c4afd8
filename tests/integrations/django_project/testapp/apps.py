from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.integrations.django_project.testapp"
    label = "testapp"
    default_auto_field = "django.db.models.AutoField"
