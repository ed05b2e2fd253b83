from django.apps import AppConfig


class MetersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meters"
