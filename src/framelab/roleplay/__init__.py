"""The simulated client: reading a reply's words, the client's reactions, the scenario engine and
its transcript, and the role-play in a terminal."""
