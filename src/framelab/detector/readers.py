"""The role-play's readers: one detector per rubric (the boundary-bid detector, and the repair detector
where it loads), loaded in the background so that opening a notebook does not wait for them."""

from __future__ import annotations

from collections.abc import Callable

from framelab.detector.boundary import Detection, Detector, default_detector
from framelab.detector.data import DetectError


class Detectors:
    """The role-play's readers, one per rubric (:data:`framelab.core.rubrics.RUBRICS`): the boundary-bid
    detector, and the repair detector (:mod:`framelab.detector.repair`) where it loaded. Called directly,
    it is the boundary-bid detector; :func:`framelab.roleplay.reading.read` asks :meth:`for_rubric`."""

    def __init__(self, by_rubric: dict[str, Detector]):
        self.by_rubric = dict(by_rubric)

    @property
    def rubrics(self) -> frozenset[str]:
        return frozenset(self.by_rubric)

    def for_rubric(self, name: str) -> Detector | None:
        return self.by_rubric.get(name)

    def __call__(self, reply: str, client: str = "") -> Detection:
        return self.by_rubric["three_moves"](reply, client)


def for_roleplay() -> Detectors | None:
    """The readers for the role-play, or None where the boundary detector cannot run (the cue rules
    then read the words). A repair detector that cannot load leaves ruptures to the repair cues."""
    try:
        readers = {"three_moves": default_detector()}
    except (DetectError, ImportError):
        return None
    try:
        from framelab.detector.repair import default_repair_detector

        readers["repair"] = default_repair_detector()
    except (DetectError, ImportError):
        pass
    return Detectors(readers)


class LazyDetector:
    """The role-play's detector, loaded in the background: importing scikit-learn and reading the
    model takes a second or two, which a notebook (or nbgrader, running it) should not pay just to
    open. :meth:`start` begins loading (the role-play view calls it when it appears); a reply that
    arrives before the model is ready waits for it, so every reply is read the same way."""

    rubrics = frozenset({"three_moves", "repair"})

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, on_ready: Callable[[], None] | None = None) -> None:
        """Begin loading in a background thread (once); ``on_ready`` is called when it has finished."""
        import threading

        def load() -> None:
            try:
                for_roleplay()
            finally:
                if on_ready is not None:
                    on_ready()

        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=load, name="framelab-detector", daemon=True)
                self._thread.start()

    @property
    def ready(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> Detector | None:
        self.start()
        assert self._thread is not None
        self._thread.join(timeout)
        return for_roleplay() if not self._thread.is_alive() else None

    def for_rubric(self, name: str) -> Detector | None:
        """The loaded reader for a rubric (waiting for it), or None where there is none."""
        detector = self.wait()
        pick = getattr(detector, "for_rubric", None)
        if callable(pick):
            return pick(name)
        return detector if detector is not None and name in detector.rubrics else None

    def __call__(self, reply: str, client: str = "") -> Detection | None:
        detector = self.wait()
        return None if detector is None else detector(reply, client)
