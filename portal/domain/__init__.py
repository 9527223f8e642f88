"""Pure domain rules: no Flask, no database session."""
