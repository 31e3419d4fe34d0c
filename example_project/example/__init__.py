"""A small Django site that lets people "Log in with Ion"; the README's setup, runnable."""
