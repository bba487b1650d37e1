"""Layer modules: linear, activations, dropout, normalisation, embedding (conv and pooling live in
``conv.py`` and ``pooling.py``)."""
