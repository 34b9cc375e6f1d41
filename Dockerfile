# The Slipway image for compose.yaml: web and worker run the same code.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git nodejs npm bubblewrap util-linux procps \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/slipway
COPY requirements.txt tools/package.json tools/package-lock.json ./
RUN pip install --no-cache-dir -r requirements.txt \
    && mkdir tools && mv package.json package-lock.json tools/ \
    && npm ci --prefix tools --no-audit --no-fund
COPY . .
ENV SLIPWAY_DATA_DIR=/data
EXPOSE 5000
CMD ["gunicorn", "-k", "gevent", "-w", "2", "--bind", "0.0.0.0:5000", "wsgi:app"]
