"""From stored values to indicators, fair comparisons and the gaps a board should ask about."""
