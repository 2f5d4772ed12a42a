"""The feedback engine: detectors that read a trainee's own words as the eight labels (replies to
boundary bids, and replies to ruptures under the repair rubric), the guard that keeps them from
being an answer key, their cache, and the JSON Lines protocol of ``framelab detect``."""
