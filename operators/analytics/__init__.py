"""Performance metrics of a backtest or a live account: pure functions of trades and equity."""

from operators.analytics.equity import (
    Drawdown,
    EquityPoint,
    EquityStats,
    drawdown_series,
    equity_stats,
    max_drawdown,
    monthly_returns,
)
from operators.analytics.summary import Performance, buy_and_hold_curve, performance
from operators.analytics.trades import ClosedTrade, TradeStats, breakdown, exposure, trade_stats
from operators.analytics.walkforward import Fold, choose, folds

__all__ = [
    "ClosedTrade",
    "Drawdown",
    "EquityPoint",
    "EquityStats",
    "Fold",
    "Performance",
    "TradeStats",
    "breakdown",
    "buy_and_hold_curve",
    "choose",
    "drawdown_series",
    "equity_stats",
    "exposure",
    "folds",
    "max_drawdown",
    "monthly_returns",
    "performance",
    "trade_stats",
]
