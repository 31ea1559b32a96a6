"""Measurements behind the README's figures; each module is one command."""
