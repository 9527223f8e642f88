"""Documents the portal issues: their content types and their drawing (PDF). What a document
says is decided by the services that issue it; this package only lays it out."""
