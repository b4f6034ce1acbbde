"""End to end with the real services: models, retrieval, store. Slow; marked `integration`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from test_app_fakes import wait_until

from tutor.app.app import TutorApp
from tutor.app.services import ServicesConfig, TutorServices
from tutor.app.widgets.chat import AnswerBlock

pytestmark = pytest.mark.integration


def _pipeline_missing() -> str | None:
    for module in ("tutor.llm.answer", "tutor.store.store", "tutor.content.loader"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not importable yet"
    return None


async def test_real_tutor_streams_a_grounded_answer_with_a_source(tmp_path: Path, monkeypatch) -> None:
    reason = _pipeline_missing()
    if reason:
        pytest.skip(reason)
    services = TutorServices(ServicesConfig(db=f"sqlite:///{tmp_path / 'e2e.db'}"))
    app = TutorApp(services, learner="Ivy")
    # count the pieces the block is given (polling the text under load can miss a fast stream)
    pieces: list[str] = []
    write = AnswerBlock.write

    async def counted(self, delta: str) -> None:
        pieces.append(delta)
        await write(self, delta)

    monkeypatch.setattr(AnswerBlock, "write", counted)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.current_mode == "chat", timeout=30, what="chat page")
            await wait_until(pilot, lambda: app.readiness.state in ("ready", "failed"), timeout=300, what="models")
            assert app.readiness.state == "ready", app.readiness.detail
            await pilot.press(*"What does the discriminator in a GAN do?", "enter")
            block = await wait_until(pilot, lambda: app.screen.query(AnswerBlock).last(), what="answer block")
            await wait_until(pilot, lambda: block.finished, timeout=300, what="answer")
            assert not block.has_class("-error"), block.query_one(".answer-status").render()
            assert block.text.strip()
            assert len(pieces) > 2, "the answer should arrive in pieces, not at once"
            assert block.sources, "a course answer cites at least one section"
            assert any(s.section_id in ("gan", "gan-deepfakes") for s in block.sources)
            assert block.evidence and any("discriminator" in e.text.lower() for e in block.evidence)
            # the answer is saved by a worker once the stream ends: wait for it before the app closes
            await wait_until(
                pilot, lambda: len(services.history(app.learner.id)) >= 2, timeout=30, what="saved answer"
            )
        assert app.errors == []
        saved = services.history(app.learner.id)
        assert [m.role for m in saved] == ["user", "assistant"]
    finally:
        services.close()
