"""Desktop training code (TensorFlow). Imports shared contracts from ``edge``; never imported by it."""
