"""The optimiser shared by the package's trainers (``forecast.Forecaster`` and ``nn.train``)."""

import math

import numpy as np


class Adam:
    """Adam (Kingma & Ba, 2015) on one flat parameter vector, with global-norm gradient clipping."""

    def __init__(self, size, dtype, learning_rate, clip_norm, beta1=0.9, beta2=0.999, eps=1e-8):
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self.t = 0
        self.lr, self.clip, self.b1, self.b2, self.eps = learning_rate, clip_norm, beta1, beta2, eps

    def step(self, theta, grad):
        norm = float(np.sqrt(grad @ grad))
        if not math.isfinite(norm):
            raise FloatingPointError(
                "the gradient became NaN or infinite during training; lower learning_rate or clip_norm"
            )
        if self.clip is not None and norm > self.clip:
            grad = grad * (self.clip / norm)
        self.t += 1
        self.m *= self.b1
        self.m += (1.0 - self.b1) * grad
        self.v *= self.b2
        self.v += (1.0 - self.b2) * grad * grad
        step = self.lr * math.sqrt(1.0 - self.b2**self.t) / (1.0 - self.b1**self.t)
        theta -= step * self.m / (np.sqrt(self.v) + self.eps)
        return norm
