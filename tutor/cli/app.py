"""`tutor app` (and `tutor` alone): open the terminal app."""

from __future__ import annotations

import click


@click.command("app")
@click.option("--learner", help="Open directly as this learner (created if new).")
@click.option("--course", type=click.Path(file_okay=False), help="Course folder (default: the shipped course).")
@click.option("--db", help="Database URL (default: SQLite in the data folder; TUTOR_DB_URL also works).")
@click.option("--adapter", help='LoRA adapter: a folder, "none" for the base model, default the shipped one.')
@click.option("--model", help="Base model to load instead of the shipped SmolLM2.")
def app_command(
    learner: str | None, course: str | None, db: str | None, adapter: str | None, model: str | None
) -> None:
    """Open the terminal app: chat with the tutor, read lessons, take quizzes, see progress."""
    from tutor import config
    from tutor.app.services import ServicesConfig, TutorServices

    config.offline()
    try:
        from tutor.app.app import TutorApp
    except ImportError as exc:  # a broken install, said plainly
        raise click.ClickException(f"The app could not start: {exc}. Run `make install`.") from exc
    services = TutorServices(ServicesConfig(db=db, course=course, adapter=adapter, model=model))
    app = TutorApp(services, learner=learner, settings_path=config.paths().data_dir / "app.json")
    try:
        app.run()
    except Exception as exc:  # noqa: BLE001 - the terminal must never end on a traceback
        raise click.ClickException(f"The app stopped: {' '.join(str(exc).split())[:300]}") from exc
    finally:
        try:
            services.close()
        except Exception:  # noqa: BLE001
            pass
    if app.return_code:
        raise SystemExit(app.return_code)
