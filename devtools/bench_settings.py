"""What `make bench-peer` serves with gunicorn: production settings, and the bench's two bare views
on top of the product's routes (devtools.bench_urls). The product's own URL conf never has them."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "devtools.bench_urls"
