"""web subpackage."""
