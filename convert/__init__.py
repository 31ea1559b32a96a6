"""Desktop conversion of trained models to TFLite (float32 and int8), each gated against its float twin."""
