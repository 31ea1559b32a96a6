"""Face modality: image decoding, face detection, the expression model and camera sources (``face`` extra)."""
