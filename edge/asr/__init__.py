"""On-device speech recognition for the text model: keyword spotting and transcription, as timed, scored words."""
