"""What a trainee or self-study learner uses: what module notebooks call, practice checking,
self-check and progress, time spent, and the never-overwrite workspace copy."""
