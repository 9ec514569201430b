"""scoring subpackage."""
