"""Speech-emotion model: corpora, augmentation, CNN-BiLSTM-attention, cross-validated training."""
