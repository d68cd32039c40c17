"""Compatibility runs: ``mockorigin proxy-check`` and ``mockorigin client-check`` (issue 13).

The product plays both ends (the origin serving the catalogue, and a byte-exact
client) around a user's proxy, or runs a user's client against each case, and
says what it did in that author's words.
"""
