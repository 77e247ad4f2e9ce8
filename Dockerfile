# Production image: gunicorn serving OnePanel, the same image runs the Celery worker and beat.
# gunicorn's settings are config/gunicorn.py: workers from the CPU count (WEB_CONCURRENCY
# overrides), timeouts, graceful restarts, and an access log of URL patterns without
# client IPs, query strings or tokens.
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

# Identity documents (encrypted) live in a volume mounted here, never under static or media.
RUN mkdir -p /app/private && chown onepanel:onepanel /app/private

USER onepanel
EXPOSE 8000
# exec form: gunicorn is PID 1 and gets docker's SIGTERM for a graceful stop.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
