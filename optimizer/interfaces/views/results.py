"""Results: headline cards with the change from the input as it is, the plan, shadow prices; when there is
no plan, why, with each fix as a button that applies it and solves again."""

from __future__ import annotations

import re

import streamlit as st

import optimizer as so

from .common import download, job_status, money, percent, plain, show_error


def render(session, solve) -> None:
    st.header("Results")
    if job_status(session, "solve"):
        st.write("Solving in a worker process; the page stays usable.")
    if session.answers.get("levers error") is not None:
        show_error(session.answers["levers error"], "The levers give an input that cannot be used.")
        return
    answer = session.answers.get("solve")
    if answer is None:
        st.info("Press **Solve** in the sidebar to see the plan for the current levers.")
        return
    result, base = answer["result"], session.answers.get("base")
    changes = answer.get("changes", [])
    st.caption("Levers: " + ("; ".join(changes) if changes else "as in the input"))
    if not result.optimal:
        _no_plan(session, result, solve)
        download("Download the workbook (why there is no plan)", answer["plan"], "plan.xlsx", "plan-download")
        return
    headline(result, base if base is not None and base.optimal else None)
    download("Download the plan workbook (.xlsx)", answer["plan"], "plan.xlsx", "plan-download")
    download("Download the one-page PDF", answer.get("pdf"), "plan.pdf", "pdf-download")
    plan_tables(result, answer.get("why"))


def headline(result, base) -> None:
    """Cards, three to a row so that a value shows whole on a laptop screen: the objective, expected cost and
    CVaR; the worst scenario, dependency share and lowest fill rate; each against the base."""
    currency = result.data.settings.currency
    now, was = result.headline, (base.headline if base is not None else {})
    share_key, cvar_key = "dependency_share", "cvar"  # stable headline keys; country and level are values
    labels = dict(zip(result.summary["metric"], result.summary["label"]))
    rows = [[("objective", "money", "inverse"), ("expected_cost", "money", "inverse"), (cvar_key, "money", "inverse")],
            [("worst_scenario_cost", "money", "inverse"), (share_key, "share", "inverse"),
             ("lowest_fill_rate", "share", "normal")]]
    for cards in rows:
        for column, (key, kind, colour) in zip(st.columns(len(cards)), cards):
            _card(column, now.get(key), was.get(key), kind, colour, str(labels.get(key, key)), currency)
    worst, cvar = now.get("worst_scenario_cost"), now.get(cvar_key)
    if worst is not None and cvar is not None and abs(worst - cvar) <= 1e-9 * max(1.0, abs(worst)):
        level = now.get("cvar_level")
        st.caption(f"CVaR {level:.0%} equals the worst scenario's cost: the worst {1 - level:.0%} of probability "
                   "lies within that one scenario." if level is not None else
                   "CVaR equals the worst scenario's cost: its tail lies within that one scenario.")
    shares = result.origin_shares
    if not shares.empty:
        st.subheader("Share through each capped country, per material, against its cap")
        # one row per cap and material (two rows of the sheet capping one material at two levels stay apart)
        reached = (shares.groupby(["cap", "material", "max_share"], sort=False)
                   .agg(highest_share=("share", "max")).reset_index()
                   .rename(columns={"max_share": "cap_share"})[["cap", "material", "highest_share", "cap_share"]])
        reached["binds"] = ["at the cap" if high >= cap - 1e-6 else "" for high, cap in
                            zip(reached["highest_share"], reached["cap_share"])]
        reached[["highest_share", "cap_share"]] *= 100  # one format for both: 68.4% beside 90.0%
        st.dataframe(reached, hide_index=True, column_config={
            "highest_share": st.column_config.NumberColumn("highest share (any scenario)", format="%.1f%%"),
            "cap_share": st.column_config.NumberColumn("cap", format="%.1f%%"),
            "binds": st.column_config.TextColumn("binds in some scenario")})


def _card(column, value, was, kind: str, colour: str, label: str, currency: str) -> None:
    show = money(value, currency) if kind == "money" else percent(value)
    delta = None
    if was is not None and value is not None:
        change = value - was
        if abs(change) > 1e-9 * max(1.0, abs(value)):
            delta = (money(change, currency) if kind == "money" else f"{change * 100:+.1f} points")
            delta = delta if delta.startswith("-") or delta.startswith("+") else "+" + delta
    # the card's title is the label's head ("CVaR 95%", "Expected China share"), which fits a card on a
    # laptop screen; the whole label is its help
    short = re.split(r" \(|: ", label)[0]
    column.metric(plain(short), show, delta, delta_color=colour, border=True,
                  help=plain(label + ("; the change is from the input as it is" if delta else "")))


def plan_tables(result, why=None) -> None:
    """The plan's tables and charts; why: the why-these-suppliers analysis of the same data, when made."""
    st.subheader("What to sign and reserve")
    st.pyplot(so.supply_chart(result), clear_figure=False)
    plan = result.plan[result.plan["quantity"] > 1e-9]
    st.dataframe(plan, hide_index=True, width="stretch")
    if why is not None and (why.lines or why.note or not why.table.empty):
        st.subheader("Why these suppliers")
        for line in why.lines + ([why.note] if why.note else []):
            st.text(line)
        st.dataframe(why.table, hide_index=True, width="stretch")
    st.subheader("Cost of each scenario")
    st.pyplot(so.cost_chart(result), clear_figure=False)
    st.dataframe(result.scenario_costs, hide_index=True, width="stretch")
    st.subheader("China share of each material against its cap")
    st.pyplot(so.share_chart(result), clear_figure=False)
    st.subheader("Fill rates")
    st.dataframe(result.fill_rates.pivot(index="scenario", columns="material", values="fill_rate"),
                 width="stretch")
    st.subheader("Shadow prices (rules that bind, most valuable first)")
    prices = result.shadow_prices
    binding = prices[prices["value"].abs() > 1e-9]
    st.dataframe(binding.reindex(binding["value"].abs().sort_values(ascending=False).index), hide_index=True,
                 width="stretch")


def _no_plan(session, result, solve) -> None:
    st.error(f"No plan: {result.status}.", icon=":material/block:")
    st.code(result.message, language=None, wrap_lines=True)
    explanation = result.explanation
    if explanation is None or explanation.empty:
        return
    st.subheader("Fixes")
    try:
        data = session.levered()  # a cap the levers added is named there
    except so.InputError:
        data = session.data
    for number, (fix, rows) in enumerate(explanation.groupby("fix", sort=False), start=1):
        levers = session.levers.with_fix(data, rows)
        text = "; ".join(dict.fromkeys(rows["advice"]))
        if levers is None:
            st.text(f"{number}. {text} (no lever for this rule: change it in the workbook)")
            continue
        st.button(f"Apply fix {number}: {plain(text)}", key=f"fix-{number}", on_click=_apply,
                  args=(session, levers, solve), icon=":material/build:")


def _apply(session, levers, solve) -> None:
    session.levers = levers
    session.revision += 1
    solve()
