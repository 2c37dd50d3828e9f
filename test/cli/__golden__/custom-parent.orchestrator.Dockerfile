FROM python:3.11-slim
WORKDIR /app
ENV ZENML_LOGGING_COLORS_DISABLED="False"
ENV ZENML_ENABLE_REPO_INIT_WARNINGS="False"
ENV ZENML_CONFIG_PATH="/app/.zenconfig"
ENV ZENML_REQUIRES_CODE_DOWNLOAD="True"
RUN command -v uv >/dev/null 2>&1 || pip install --no-cache-dir uv
COPY .zenml_user_requirements .
RUN uv pip install --no-cache-dir --system -r .zenml_user_requirements
