"""Fine-tuning all-MiniLM-L6-v2 on the labelled headlines (event type and sentiment together).

The stock sentence embedding places headlines by topic, not by what happened: "SEC sues X" and
"X partners with Y" sit close when X is the same company. Training the encoder end to end on
both label sets (one shared encoder, one linear layer per task, summed cross-entropy) moves the
taxonomy's distinctions into the embedding; the calibrated heads are then fitted on top of it as
before. Seeded, single-threaded-deterministic torch on the CPU: the same rows, seed and config
give the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from models.encoder import weights_dir

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class FinetuneConfig:
    epochs: int = 3
    lr_encoder: float = 1e-4
    lr_heads: float = 1e-3
    batch_size: int = 32
    max_tokens: int = 48
    """Headlines rarely exceed 40 word pieces; a shorter cap keeps training batches small."""
    warmup: float = 0.1
    """Fraction of steps with a linearly rising learning rate, then linear decay to zero."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _label_ids(values: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[v] for v in values], dtype=np.int64)


def finetune(
    texts: Sequence[str],
    tasks: Sequence[tuple[Sequence[str], Sequence[str]]],
    config: FinetuneConfig,
    seed: int,
) -> torch.nn.Module:
    """Return the fine-tuned BERT (``transformers`` model, eval mode) for ``export_int8``.

    ``tasks`` is a list of ``(label set, label of each text)``; every task gets its own linear
    layer over the mean-pooled token states, and their losses are summed.
    """
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    source = weights_dir()
    bert = AutoModel.from_pretrained(str(source))
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.enable_truncation(config.max_tokens)
    tokenizer.no_padding()
    encodings = [e.ids for e in tokenizer.encode_batch(list(texts))]
    hidden = int(bert.config.hidden_size)
    heads = torch.nn.ModuleList(torch.nn.Linear(hidden, len(labels)) for labels, _ in tasks)
    targets = [torch.from_numpy(_label_ids(values, labels)) for labels, values in tasks]
    optimiser = torch.optim.AdamW(
        [
            {"params": bert.parameters(), "lr": config.lr_encoder},
            {"params": heads.parameters(), "lr": config.lr_heads},
        ],
        weight_decay=0.01,
    )
    steps_per_epoch = -(-len(texts) // config.batch_size)
    total = steps_per_epoch * config.epochs
    warm = max(1, int(total * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min((step + 1) / warm, max(0.0, (total - step) / max(1, total - warm))),
    )
    order_rng = np.random.default_rng(seed)
    bert.train()
    for _epoch in range(config.epochs):
        order = order_rng.permutation(len(texts))
        for lo in range(0, len(texts), config.batch_size):
            rows = order[lo : lo + config.batch_size]
            width = max(len(encodings[i]) for i in rows)
            ids = torch.zeros((len(rows), width), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for r, i in enumerate(rows):
                ids[r, : len(encodings[i])] = torch.tensor(encodings[i])
                mask[r, : len(encodings[i])] = 1
            states = bert(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / weights.sum(1)
            index = torch.from_numpy(rows)
            loss = sum(
                torch.nn.functional.cross_entropy(head(pooled), target[index])
                for head, target in zip(heads, targets, strict=True)
            )
            optimiser.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            optimiser.step()
            schedule.step()
    return cast("torch.nn.Module", bert.eval())
