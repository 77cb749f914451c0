"""The standing fault campaign (`./ruggengraat faults`): every scenario on a fresh system under a steady load,
judged by what the stores and a real webhook endpoint hold afterwards. See campaign.py."""

from deploy.faults.campaign import (
    SCENARIOS,
    Options,
    Scenario,
    ScenarioResult,
    default_scenarios,
    run_campaign,
    run_scenario,
)

__all__ = ["SCENARIOS", "Options", "Scenario", "ScenarioResult", "default_scenarios", "run_campaign", "run_scenario"]
