"""Pooling a padded batch of sequences into one vector per sequence, for 07's text models.

A padded batch holds each sequence's vectors followed by padding up to the longest one;
pooling must read the real positions only, or a short review would be averaged with the
padding vectors and its representation would depend on what else is in its batch.
"""
import torch


def masked_mean(hidden, mask):
    """The mean of `hidden` [B, T, D] over the positions where `mask` [B, T] (bool) is True
    — the real tokens; padding is False — as [B, D]. A sequence with no real token gets
    zeros rather than nan. (`nn.TransformerEncoder`'s `src_key_padding_mask` is the
    opposite: True marks padding, so pass `~src_key_padding_mask` here.)"""
    if hidden.ndim != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError(f"masked_mean takes hidden [B, T, D] and mask [B, T]; got hidden {tuple(hidden.shape)} "
                         f"and mask {tuple(mask.shape)}")
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
