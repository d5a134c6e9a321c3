"""The course on one JupyterHub: local accounts from a roster (`roster`, `accounts`), the
hub's state and configuration (`setup`, `config`), and nbgrader's exchange with the
instructor's steps on it (`exchange`)."""
