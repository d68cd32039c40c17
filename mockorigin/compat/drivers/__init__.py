"""Small client programs for client-check runs (the tests and the matrix): each reads the
case from the MO_* environment variables and prints the status, then the body."""
