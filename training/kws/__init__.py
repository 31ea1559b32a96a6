"""Keyword spotting: Speech Commands training clips for the ten-keyword spotter."""
