"""media subpackage."""
