"""A stand-in training step: what a ZenML pipeline's code looks like inside the image."""
import os


def train() -> str:
    return f"training with models in {os.environ.get('MODEL_DIR', '/models')}"


if __name__ == "__main__":
    print(train())
