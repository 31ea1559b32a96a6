"""Audio front end: decoding, voice activity, MFCC frame contract and microphone capture."""
