"""The unit-test site plus a page that calls Ion's API, for the integration tests."""
