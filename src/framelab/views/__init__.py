"""Thin ipywidgets views over the plain functions elsewhere: exercise menus, practice decks, the
role-play and its HTML, the keyboard radio group (``static/``) and the shared style sheet."""
