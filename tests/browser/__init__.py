"""Browser tests of the citizen form (tests/browser/test_form_in_browser.py) and `make screenshots`."""
