"""Probe run in a fresh process by `tutor bench app`: when does the app paint, when is the tutor ready.

Times are wall-clock seconds since the parent started this process (passed in
``TUTOR_BENCH_T0``), so Python start-up and every import are counted, as a
student running `tutor` would feel them. The process CPU time at the same two
moments is recorded too: on a busy machine wall time mostly measures the
neighbours, CPU time measures the work tutor itself does. The app runs headless at a fixed size
with the real services over a scratch database.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    t0 = float(os.environ.get("TUTOR_BENCH_T0", time.time()))
    db = os.environ.get("TUTOR_BENCH_DB")
    timeout = float(os.environ.get("TUTOR_BENCH_TIMEOUT", "120"))
    marks: dict[str, float | str | None] = {"first_paint_s": None, "ready_s": None, "state": None, "detail": ""}

    from tutor import config

    config.offline()
    from tutor.app.app import TutorApp
    from tutor.app.services import ServicesConfig, TutorServices

    marks["imported_s"] = time.time() - t0

    class BenchApp(TutorApp):
        def on_mount(self) -> None:  # runs after TutorApp.on_mount (handlers are called along the MRO)
            self._paint_timer = self.set_interval(0.005, self._check_paint, name="bench-paint")
            self.set_timer(timeout, self._give_up)

        def _check_paint(self) -> None:
            if marks["first_paint_s"] is None and self.screen.query("#name"):
                self._paint_timer.stop()
                self.call_after_refresh(self._painted)

        def _painted(self) -> None:
            if marks["first_paint_s"] is None:
                marks["first_paint_s"] = time.time() - t0
                marks["first_paint_cpu_s"] = time.process_time()

        def watch_readiness(self, readiness) -> None:  # noqa: ANN001
            if readiness.state in ("ready", "failed") and marks["ready_s"] is None:
                marks["ready_s"] = time.time() - t0
                marks["ready_cpu_s"] = time.process_time()
                marks["state"] = readiness.state
                marks["detail"] = readiness.detail
                marks["stages"] = dict(getattr(self.services, "load_seconds", {}) or {})
                self.call_after_refresh(self.exit)

        def _give_up(self) -> None:
            marks["state"] = "timeout"
            self.exit()

    services = TutorServices(ServicesConfig(db=db))
    app = BenchApp(services)
    app.run(headless=True, size=(120, 40))
    try:
        services.close()
    except Exception:  # noqa: BLE001
        pass
    marks["errors"] = [repr(e) for e in app.errors]
    sys.stdout.write(json.dumps(marks) + "\n")
    sys.stdout.flush()
    os._exit(0)  # a model-loading thread must not hold the process open


if __name__ == "__main__":
    main()
