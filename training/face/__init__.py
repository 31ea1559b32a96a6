"""Face-expression training: FER2013 data, the MobileNet-style model, the training loop."""
