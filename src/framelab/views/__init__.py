"""What a notebook shows: ``Lesson`` (what every module notebook calls), and thin ipywidgets views over
the plain functions elsewhere: exercise menus, practice decks, the role-play and its HTML, self-check
and progress, the keyboard radio group (``static/``) and the shared style sheet."""
