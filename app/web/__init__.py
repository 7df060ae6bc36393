"""The citizen's door: the reference self-registration form (server-rendered, no JavaScript)."""
