"""A real model with both kinds of file fields, stored through GenroStorage."""

from django.db import models


class Document(models.Model):
    title = models.CharField(max_length=100)
    file = models.FileField(upload_to="docs/%Y/")
    image = models.ImageField(
        upload_to="images/", blank=True, width_field="width", height_field="height"
    )
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)

    class Meta:
        app_label = "testapp"
