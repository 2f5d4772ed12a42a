"""What every other part of Frame Lab stands on, and which imports nothing of Frame Lab's own:
the eight-label vocabulary, the rubrics that name the labels, the course's location and settings,
atomic file writes and bounded JSON reading."""
