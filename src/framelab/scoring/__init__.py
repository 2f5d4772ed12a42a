"""How an answer is saved, checked, scored and shown: the trainee's ``answers.json``, the checks that
released and hidden test cells call, the score of record (read as data, never by running the
notebook), and the one function that names a chosen answer in each rubric's words."""
