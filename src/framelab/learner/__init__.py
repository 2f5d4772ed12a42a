"""What a trainee or self-study learner uses, as plain functions over plain data: practice checking,
self-check and progress, time spent, and the never-overwrite workspace copy."""
