"""Desktop tools for on-device speech recognition: the transcriber's language model and the keyword network."""
