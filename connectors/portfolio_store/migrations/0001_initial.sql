-- Fills, positions and PnL snapshots. Money and quantities are NUMERIC: exact, like Decimal.

CREATE TABLE fills (
    venue           text        NOT NULL,
    fill_id         text        NOT NULL,
    account         text        NOT NULL,
    client_order_id text        NOT NULL,
    symbol          text        NOT NULL,
    side            text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity        numeric     NOT NULL CHECK (quantity > 0),
    price           numeric     NOT NULL CHECK (price > 0),
    fee             numeric     NOT NULL,
    fee_asset       text        NOT NULL,
    filled_at       timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue, fill_id)
);

CREATE INDEX fills_by_account_symbol ON fills (account, venue, symbol, filled_at);

CREATE TABLE positions (
    account       text        NOT NULL,
    venue         text        NOT NULL,
    symbol        text        NOT NULL,
    quantity      numeric     NOT NULL,
    average_entry numeric     NOT NULL,
    realised_pnl  numeric     NOT NULL DEFAULT 0,
    fees          numeric     NOT NULL DEFAULT 0,
    funding       numeric     NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (account, venue, symbol)
);

CREATE TABLE pnl_snapshots (
    account        text        NOT NULL,
    taken_at       timestamptz NOT NULL,
    equity         numeric     NOT NULL,
    realised_pnl   numeric     NOT NULL,
    unrealised_pnl numeric     NOT NULL,
    fees           numeric     NOT NULL,
    funding        numeric     NOT NULL,
    drawdown_pct   numeric     NOT NULL,
    PRIMARY KEY (account, taken_at)
);
