"""Question-bank items as typed objects (the schema of `quizzes/<course>/*.yaml`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MODEL_TYPES = (
    "autoencoder", "vae", "gan", "transformer", "rnn", "lstm", "gru", "diffusion", "cnn", "feedforward",
)
ModelType = Literal[
    "autoencoder", "vae", "gan", "transformer", "rnn", "lstm", "gru", "diffusion", "cnn", "feedforward",
]


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str  # "A", "B", ...
    text: str
    feedback: str  # why this option is right or wrong


class MultipleChoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["multiple_choice"] = "multiple_choice"
    id: str
    concepts: tuple[str, ...] = Field(min_length=1)
    objective: str
    difficulty: int = Field(ge=1, le=5)
    stem: str
    options: tuple[Option, ...] = Field(min_length=2)
    answer: str  # the key of the correct option
    sections: tuple[str, ...] = Field(min_length=1)
    source: Literal["lesson", "authored"] = "authored"  # "lesson": a quick check copied verbatim


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["scenario"] = "scenario"
    id: str
    concepts: tuple[str, ...] = Field(min_length=1)
    objective: str
    difficulty: int = Field(default=3, ge=1, le=5)
    scenario: str
    accepted: tuple[ModelType, ...] = Field(min_length=1)
    key_points: tuple[str, ...] = Field(min_length=1)
    model_answer: str
    sections: tuple[str, ...] = Field(min_length=1)


Item = Annotated[MultipleChoice | Scenario, Field(discriminator="kind")]


class QuestionBank(BaseModel):
    model_config = ConfigDict(frozen=True)

    course_id: str
    version: str  # hash of the bank files: stored with every attempt
    items: tuple[MultipleChoice | Scenario, ...]

    def item(self, item_id: str) -> MultipleChoice | Scenario:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)
