"""The behaviour format: YAML in, frozen model objects out, or every problem located.

Theory of operation. ``yamlsource`` reads YAML safely (no tags, aliases and
nesting bounded before anything is built, duplicate keys refused) into plain
values with a position for every key and value. ``shape`` validates them against
the JSON Schema (``schema.json``, the one description of the format that editors
use too) and says what is wrong in words about the file. ``builder`` (with its
step families in ``build_http``, ``build_websocket`` and ``build_durations``)
gives the shape its meaning: units (``units``), bounds (``mockorigin.limits``),
placeholders (``template``) and file paths, and builds ``model`` objects.
``loader`` is the entry point: files and folders in, a whole set out, or a
``LoadError`` listing every problem as ``FILE:LINE:COL: message``. Nothing here
knows about connections or wire formats.
"""
