"""Background jobs that reach across capabilities, above every one of them and below the
entry points that run them (app.worker, app.cli): the deadline monitor (`monitor`: intakes'
deadlines and cases' agreements) and retention (`retention`: erasure reaches every table)."""
