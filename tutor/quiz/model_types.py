"""The model-type vocabulary of scenario exercises: names a learner may type, and names a hint must avoid."""

from __future__ import annotations

from tutor.quiz.model import MODEL_TYPES
from tutor.quiz.text import normalise

# Every way the lesson (or a learner) names each model type. Used both to read a learner's choice and to
# make sure a hint never names the accepted type of an unanswered scenario.
NAMES: dict[str, tuple[str, ...]] = {
    "autoencoder": ("autoencoder", "autoencoders", "auto-encoder", "auto encoder", "ae"),
    "vae": ("vae", "vaes", "variational autoencoder", "variational autoencoders", "variational auto-encoder",
            "variational model", "variational"),
    "gan": ("gan", "gans", "generative adversarial network", "generative adversarial networks", "adversarial",
            "stylegan"),
    "transformer": ("transformer", "transformers", "transformer-based model", "transformer-based models",
                    "transformer-based"),
    "rnn": ("rnn", "rnns", "recurrent neural network", "recurrent neural networks", "recurrent network",
            "recurrent"),
    "lstm": ("lstm", "lstms", "long short-term memory", "long short term memory"),
    "gru": ("gru", "grus", "gated recurrent unit", "gated recurrent units"),
    "diffusion": ("diffusion", "diffusion model", "diffusion models", "stable diffusion"),
    "cnn": ("cnn", "cnns", "convolutional neural network", "convolutional neural networks", "convolutional"),
    "feedforward": ("feedforward", "feed-forward", "feed forward", "feedforward neural network",
                    "feedforward neural networks", "mlp"),
}

LABELS: dict[str, str] = {
    "autoencoder": "Autoencoder",
    "vae": "Variational autoencoder (VAE)",
    "gan": "Generative adversarial network (GAN)",
    "transformer": "Transformer",
    "rnn": "Recurrent neural network (RNN)",
    "lstm": "Long short-term memory (LSTM)",
    "gru": "Gated recurrent unit (GRU)",
    "diffusion": "Diffusion model",
    "cnn": "Convolutional neural network (CNN)",
    "feedforward": "Feedforward neural network",
}

assert set(NAMES) == set(MODEL_TYPES) == set(LABELS)


def parse_model_type(text: str) -> str | None:
    """The model type a learner means ("GAN", "3" is not handled here, "variational autoencoder"), or None."""
    wanted = normalise(text)
    if not wanted:
        return None
    for model_type, names in NAMES.items():
        if wanted == model_type or wanted in {normalise(n) for n in names}:
            return model_type
    return None


def names_of(model_types: tuple[str, ...] | list[str]) -> list[str]:
    """Every surface name of the given types (for leak checks)."""
    out: list[str] = []
    for model_type in model_types:
        out.extend(NAMES.get(model_type, (model_type,)))
        out.append(model_type)
    return out
