# MediaStudio production image: daphne (web) and qcluster (worker) run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MEDIASTUDIO_VAR_DIR=/app/var DJANGO_SETTINGS_MODULE=mediastudio.settings

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng libespeak-ng1 fonts-dejavu-core fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 studio
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mediastudio ./mediastudio
COPY campaigns ./campaigns
COPY media_assets ./media_assets
COPY generation ./generation
COPY audio ./audio
COPY publishing ./publishing
COPY templates ./templates
COPY static ./static
COPY manage.py ./
# EXTRAS=gpu builds the GPU worker's image (torch and diffusers; compose.yaml's gpu profile).
ARG EXTRAS=""
RUN pip install ".${EXTRAS:+[$EXTRAS]}" && mkdir -p /app/var /srv/jobs && chown -R studio:studio /app/var /srv/jobs \
 && DEBUG=false SECRET_KEY=collectstatic-only-not-used-at-runtime-0123456789abcdef ALLOWED_HOSTS=build \
    python manage.py collectstatic --no-input -v0 && chown -R studio:studio /app/var

USER studio
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "mediastudio.asgi:application"]
