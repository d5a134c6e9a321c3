"""The two ways of training a binary classifier, and why they are one.

A network for two classes can end in one logit z per sample, trained with
`nn.BCEWithLogitsLoss` (07's text models do), or in two logits trained with
`nn.CrossEntropyLoss`, as for more classes. `two_class_logits` turns the first into the
second, and shows that nothing but the number of outputs changes.
"""
import torch


def two_class_logits(logits):
    """The [N] logits of the positive class as [N, 2] logits [0, z] — class 0's, class 1's —
    whose `F.cross_entropy(two_class_logits(z), y)` equals
    `F.binary_cross_entropy_with_logits(z, y.float())`, value and gradient.

    Why: softmax([0, z]) = [1 / (1 + e^z), e^z / (1 + e^z)] = [1 - sigmoid(z), sigmoid(z)],
    the two probabilities the binary classifier gives. Cross-entropy with target class y is
    -log of the y-th probability: -log(sigmoid(z)) for y = 1 and -log(1 - sigmoid(z)) for
    y = 0, which are the two terms of binary cross-entropy,
    -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]; with class-probability targets
    [1 - y, y] the two are equal for any y in [0, 1]. Softmax does not change when one number
    is added to every logit of a row, so [a, a + z] works for any a: only the difference of
    the two logits counts, and it is z, the log-odds of the positive class. A one-logit
    classifier is thus a two-class softmax classifier whose class-0 logit is pinned at 0 —
    the same model with half the output weights (two free output rows would only add one
    redundant direction)."""
    if logits.ndim != 1:
        raise ValueError(f"logits must be [N], one logit per sample, got shape {tuple(logits.shape)}: an "
                         f"nn.Linear(..., 1) output [N, 1] becomes [N] with .squeeze(1)")
    return torch.stack([torch.zeros_like(logits), logits], dim=1)
