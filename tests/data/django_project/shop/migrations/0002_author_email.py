from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField(model_name="author", name="email", field=models.CharField(default="", max_length=200)),
        migrations.AlterField(model_name="author", name="name", field=models.CharField(max_length=200)),
        migrations.AddIndex(model_name="author", index=models.Index(fields=["email"], name="shop_author_email_idx")),
    ]
