"""Recurrent layers: RNN, GRU, LSTM."""

__all__ = []
