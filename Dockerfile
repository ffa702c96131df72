# Aware's image: the web server, the Celery worker and beat all run from it (see docker-compose.yml).
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static_src ./static_src
RUN npm run build:css && npm run build:sw

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
# The same locked dependencies as every other install (requirements.lock from pyproject.toml),
# each checked against the hashes in the lock.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
COPY --from=assets /app/build/static ./build/static
COPY --from=assets /app/node_modules/govuk-frontend/dist ./node_modules/govuk-frontend/dist
# collectstatic loads the production settings, which need a secret key and a records key: both
# are throwaways here (the real ones come from .env at run time, never from the image).
RUN DJANGO_SECRET_KEY=collectstatic-only AWARE_RECORDS_KEY_ID=collectstatic-only \
    AWARE_RECORDS_KEYS="collectstatic-only:$(python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')" \
    python manage.py collectstatic --no-input \
    && useradd --create-home aware && mkdir -p /app/media /app/var/checkpoints \
    && chown aware /app/media /app/var/checkpoints
USER aware
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
