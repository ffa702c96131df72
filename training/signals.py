"""Connects Wagtail's publish signal to the module-version service."""

from wagtail.signals import page_published

from training.models import ModulePage
from training.services import module_version_publish


def record_module_version(sender, instance, revision=None, **kwargs):
    module_version_publish(module=instance, revision=revision, user=getattr(revision, "user", None))


def connect() -> None:
    page_published.connect(record_module_version, sender=ModulePage)
