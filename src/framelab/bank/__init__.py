"""The content bank: reading, shaping and validating ``modules/`` (the labelled items, vignettes,
scenarios and exercises), its compiled copy, the files ``framelab build`` writes from it, and the
blind double rating of its items."""
