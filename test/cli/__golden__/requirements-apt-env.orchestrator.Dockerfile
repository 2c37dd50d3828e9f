FROM python:3.11-slim
WORKDIR /app
ENV ZENML_LOGGING_COLORS_DISABLED="False"
ENV ZENML_ENABLE_REPO_INIT_WARNINGS="False"
ENV ZENML_CONFIG_PATH="/app/.zenconfig"
ENV ZENML_REQUIRES_CODE_DOWNLOAD="True"
ENV MODEL_DIR="/models"
ENV DATA_DIR="$MODEL_DIR/data"
ENV PIP_DEFAULT_TIMEOUT="100"
ENV GREETING="hello \$USER, say \"hi\""
RUN apt-get update && apt-get install -y --no-install-recommends git libgomp1 && rm -rf /var/lib/apt/lists/*
COPY .zenml_user_requirements .
RUN pip install --no-cache-dir --default-timeout=60 -r .zenml_user_requirements
ENV LOG_LEVEL="info"
