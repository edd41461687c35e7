FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --home /app clinic && mkdir -p var/exports && chown -R clinic var
USER clinic
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi", "--bind=0.0.0.0:8000", "--workers=2", "--threads=4", "--access-logfile=-"]
