"""Support code of the tests: helpers, live servers, a webhook receiver, plugins, fuzz and chaos runs."""
