"""Streaming: utterances and frames through the models, fused, smoothed, out to sinks as timestamped events."""
