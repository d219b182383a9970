"""The administrators' dashboard: a Streamlit app over pure functions (results -> figures, KPIs, rosters).

The figure and KPI functions take a run's tables and its scenario and touch no Streamlit, so they are
tested on their own and serve `radsim report` too.
"""
