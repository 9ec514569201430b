"""dialogue subpackage."""
