# Production image: gunicorn serving OnePanel, the same image runs the Celery worker and beat.
# The access log leaves out client IPs and query strings: no personal data in logs.
FROM python:3.13-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN useradd --create-home --uid 1000 onepanel
# WeasyPrint (invoice PDFs) renders text with Pango and HarfBuzz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt .

COPY --chown=onepanel:onepanel . .
# collectstatic needs settings but no secrets of the deployment.
RUN DJANGO_SETTINGS_MODULE=config.settings.base DEBUG=false python manage.py collectstatic --noinput

USER onepanel
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--access-logformat", "%(m)s %(U)s %(s)s %(b)s %(L)s"]
