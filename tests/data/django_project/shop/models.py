from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200, default="")

    class Meta:
        indexes = [models.Index(fields=["email"], name="shop_author_email_idx")]
