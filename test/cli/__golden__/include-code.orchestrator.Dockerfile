FROM python:3.11-slim
WORKDIR /app
ENV ZENML_LOGGING_COLORS_DISABLED="False"
ENV ZENML_ENABLE_REPO_INIT_WARNINGS="False"
ENV ZENML_CONFIG_PATH="/app/.zenconfig"
COPY .zenml_user_requirements .
RUN pip install --no-cache-dir --default-timeout=60 -r .zenml_user_requirements
COPY --chown=1000 . .
RUN pip install . --no-deps && chown -R 1000 /app
USER 1000
